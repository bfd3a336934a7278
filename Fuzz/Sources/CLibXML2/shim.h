// libxml2's HTML parser: the fuzz targets check the landing page with a parser that is not ours.
#include <libxml/xmlversion.h>
// encoding.h would include the system's ICU headers, which clash with Foundation's own ICU module in
// the same Swift module; without ICU only xmlCharEncodingHandler's layout changes, never used here.
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
