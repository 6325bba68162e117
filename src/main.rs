//! The `res` binary: hands the process arguments to the command line in [`res::cli`].

fn main() -> std::process::ExitCode {
    res::cli::main()
}
