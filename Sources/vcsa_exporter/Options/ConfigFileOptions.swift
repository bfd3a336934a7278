import ArgumentParser

/// `--config.file`: the appliances `/probe` may reach, and their modules.
struct ConfigFileOptions: ParsableArguments {
    @Option(name: .customLong("config.file"), help: "YAML file of modules (credentials, collectors) and targets (the appliances /probe may reach).")
    var configFile: String?

    @Flag(name: .customLong("config.check"), help: "Check the --config.file, print what it configures, and exit (0: valid, 2: not).")
    var checkConfig = false
}
