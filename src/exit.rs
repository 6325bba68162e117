//! The exit codes of every `res` command, in one type: the contract scripts and CI rely on
//! (README.md, "Exit codes"). Commands return an [`Exit`]; only `main` turns it into the
//! process status, so a code cannot drift from its meaning in one corner of the tool.

/// What a command's end means to the shell that started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: done, everything held.
    Ok = 0,
    /// 1: the command ran, and what it checked did not hold (an expectation, a format check,
    /// an error threshold, a regression).
    Failed = 1,
    /// 2: bad input or refused: a usage error, an invalid option value or scenario.
    Invalid = 2,
    /// 3: aborted: stopped by a signal or an abort condition before its end.
    Aborted = 3,
    /// 4: the tool itself failed (IO, the runtime, a database it cannot use).
    Tool = 4,
}

impl Exit {
    /// The number the process exits with.
    pub const fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for u8 {
    fn from(e: Exit) -> u8 {
        e.code()
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn codes_are_the_documented_ones() {
        let all = [
            Exit::Ok,
            Exit::Failed,
            Exit::Invalid,
            Exit::Aborted,
            Exit::Tool,
        ];
        assert_eq!(all.map(Exit::code), [0, 1, 2, 3, 4]);
    }
}
