#ifndef VCSA_CYAML_SHIM_H
#define VCSA_CYAML_SHIM_H
// Debian's libyaml, for the web config file: a small C parser instead of a YAML package that
// brings full Foundation and ICU into the process.
#include <yaml.h>
#endif
