fn main() -> std::process::ExitCode {
    mcu_desk::cli::main()
}
