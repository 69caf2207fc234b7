//! Running clap over the settings with an environment passed in, and naming the variable when a value is refused.
//!
//! clap's own `env` support reads the process environment when the command is built, and takes a
//! set-but-empty variable as an empty value. Settings instead come from a lookup (the process
//! environment, where empty means unset, or a test's own values): each value found becomes a
//! `--flag=value` argument placed before the user's own arguments, on a copy of the command whose
//! arguments no longer read the environment. A flag the user typed replaces the variable, as with
//! clap's `env`. The `env` names stay on the command the help is rendered from.

use super::ConfigError;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgMatches, Command};
use std::collections::HashSet;
use std::ffi::OsString;

/// Why a command line was not accepted.
#[derive(Debug)]
pub enum CommandLineError {
    /// A setting's value was refused; the message names its variable.
    Setting(ConfigError),
    /// Anything else clap reports: help, version, an unknown flag or subcommand.
    Usage(clap::Error),
}

impl From<ConfigError> for CommandLineError {
    fn from(e: ConfigError) -> Self {
        CommandLineError::Setting(e)
    }
}

/// The variables that were set (in the environment or as a flag) rather than left to their default.
#[derive(Clone, Debug, Default)]
pub struct Given(HashSet<String>);

impl Given {
    pub fn has(&self, var: &str) -> bool {
        self.0.contains(var)
    }
}

/// One setting as `command` declares it: argument id, variable and flag.
struct Declared {
    id: clap::Id,
    var: String,
    long: String,
}

fn declared(command: &Command) -> Vec<Declared> {
    command
        .get_arguments()
        .filter_map(|arg| {
            Some(Declared {
                id: arg.get_id().clone(),
                var: arg.get_env()?.to_str()?.to_string(),
                long: arg.get_long()?.to_string(),
            })
        })
        .collect()
}

/// Parses `args` (the program name first) with `command`, every setting whose variable `lookup`
/// knows taken from it unless a flag in `args` gives it.
pub fn parse(
    command: Command,
    args: &[OsString],
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(ArgMatches, Given), CommandLineError> {
    let settings = declared(&command);
    let program: OsString = args.first().cloned().unwrap_or_else(|| "fundi".into());
    let args: Vec<OsString> = std::iter::once(program.clone())
        .chain(args.iter().skip(1).cloned())
        .collect();
    let detached = command
        .clone()
        .mut_args(|arg| arg.env(None::<&'static str>));
    let parse = |argv: Vec<OsString>| match detached.clone().try_get_matches_from(argv) {
        Ok(matches) => Ok(matches),
        Err(e) if e.kind() == ErrorKind::DisplayHelp => {
            // The same help, rendered by the command that still names each variable.
            Err(CommandLineError::Usage(
                command
                    .clone()
                    .try_get_matches_from(&args)
                    .err()
                    .unwrap_or(e),
            ))
        }
        Err(e) => Err(refused_setting(&settings, &e)
            .map(CommandLineError::Setting)
            .unwrap_or(CommandLineError::Usage(e))),
    };
    let typed = |matches: &ArgMatches, setting: &Declared| {
        matches.value_source(setting.id.as_str()) == Some(ValueSource::CommandLine)
    };
    // The user's own arguments first: a flag they typed replaces the variable, unread.
    let flags = parse(args.clone())?;
    let mut argv = vec![program];
    for setting in settings.iter().filter(|s| !typed(&flags, s)) {
        if let Some(value) = lookup(&setting.var) {
            argv.push(format!("--{}={value}", setting.long).into());
        }
    }
    argv.extend(args.iter().skip(1).cloned());
    let matches = parse(argv)?;
    let given = settings
        .iter()
        .filter(|s| typed(&matches, s))
        .map(|s| s.var.clone())
        .collect();
    Ok((matches, Given(given)))
}

/// The setting a value-parser error is about, with the parser's own message.
fn refused_setting(settings: &[Declared], e: &clap::Error) -> Option<ConfigError> {
    if !matches!(
        e.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        return None;
    }
    let Some(ContextValue::String(shown)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    // clap shows the argument as `--flag <VALUE>`.
    let flag = shown.split([' ', '=']).next()?.strip_prefix("--")?;
    let setting = settings.iter().find(|s| s.long == flag)?;
    let message = std::error::Error::source(e)
        .map(|cause| cause.to_string())
        .unwrap_or_else(|| e.kind().to_string());
    Some(ConfigError {
        var: setting.var.clone(),
        message,
    })
}

/// `command` ready to print as help: set values are not shown (they include secrets), and the
/// Markdown backticks the README keeps are dropped.
pub fn for_help(command: Command) -> Command {
    command.mut_args(|arg| {
        let arg = arg.hide_env_values(true);
        match arg.get_help().map(|help| help.to_string().replace('`', "")) {
            Some(help) => arg.help(help),
            None => arg,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::table::command;

    fn run(args: &[&str], vars: &[(&str, &str)]) -> Result<(ArgMatches, Given), CommandLineError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(command(), &args, |name| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| value.to_string())
        })
    }

    fn refused(result: Result<(ArgMatches, Given), CommandLineError>) -> String {
        match result {
            Err(CommandLineError::Setting(e)) => e.to_string(),
            other => panic!("expected a refused setting, got {other:?}"),
        }
    }

    #[test]
    fn a_refused_value_names_its_variable_with_the_parser_message() {
        assert_eq!(
            refused(run(&["fundi"], &[("FUNDI_ACCESS_TOKEN_MINUTES", "0")])),
            "FUNDI_ACCESS_TOKEN_MINUTES: must be between 1 and 1440"
        );
        assert_eq!(
            refused(run(&["fundi", "--log-format", "xml"], &[])),
            "FUNDI_LOG_FORMAT: expected text or json, got \"xml\""
        );
        assert_eq!(
            refused(run(&["fundi"], &[("FUNDI_JWT_SECRET", "-short")])),
            "FUNDI_JWT_SECRET: must be at least 32 bytes long",
            "a value starting with a dash is a value"
        );
    }

    #[test]
    fn a_flag_replaces_its_variable_unread() {
        let (matches, given) = run(
            &["fundi", "--log-format=json"],
            &[("FUNDI_LOG_FORMAT", "xml"), ("FUNDI_LOG", "debug")],
        )
        .unwrap();
        assert_eq!(
            matches.get_one::<crate::config::LogFormat>("log_format"),
            Some(&crate::config::LogFormat::Json)
        );
        assert_eq!(matches.get_one::<String>("log").unwrap(), "debug");
        assert!(given.has("FUNDI_LOG_FORMAT") && given.has("FUNDI_LOG"));
    }

    #[test]
    fn given_tells_a_set_value_from_its_default() {
        let (_, given) = run(&["fundi"], &[]).unwrap();
        assert!(!given.has("FUNDI_STRIPE_API_BASE"));
        let set = [("FUNDI_STRIPE_API_BASE", "https://api.stripe.com")];
        let (_, given) = run(&["fundi"], &set).unwrap();
        assert!(
            given.has("FUNDI_STRIPE_API_BASE"),
            "even set to the default"
        );
    }

    #[test]
    fn help_names_each_variable_without_markdown() {
        let result = parse(
            for_help(command()),
            &["fundi".into(), "--help".into()],
            |_| None,
        );
        let Err(CommandLineError::Usage(help)) = result else {
            panic!("--help is clap's to print");
        };
        let help = help.render().to_string();
        assert!(help.contains("[env: FUNDI_JWT_SECRET]"), "{help}");
        assert!(!help.contains('`'), "Markdown stays in the README");
    }
}
