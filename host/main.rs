fn main() -> std::process::ExitCode {
    moport::cli::main()
}
