fn main() -> std::process::ExitCode {
    thumbd::cli::main()
}
