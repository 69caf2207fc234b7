//! The settings as documentation: one row per variable, read from the clap declarations, rendered as the README's tables.

use super::settings::Settings;
use clap::{Args, Command};

/// One documented setting: its variable, default and meaning, and the heading it is listed under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub var: String,
    pub default: String,
    pub help: String,
    pub heading: String,
}

/// The settings' clap arguments on a bare command.
pub fn command() -> Command {
    Settings::augment_args(Command::new("fundi"))
}

/// Every setting in declaration order. A fixed default is clap's; one computed from other settings
/// is the `[default: …]` the help text ends with.
pub fn documented() -> Vec<Setting> {
    command()
        .get_arguments()
        .filter_map(|arg| {
            let var = arg.get_env()?.to_str()?.to_string();
            let text = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let (help, default) = match text.rsplit_once(" [default: ") {
                Some((help, default)) if default.ends_with(']') => {
                    (help.to_string(), default.trim_end_matches(']').to_string())
                }
                _ => {
                    let fixed: Vec<String> = arg
                        .get_default_values()
                        .iter()
                        .map(|v| format!("`{}`", v.to_string_lossy()))
                        .collect();
                    (text, fixed.join(", "))
                }
            };
            Some(Setting {
                var,
                default,
                help,
                heading: arg.get_help_heading().unwrap_or("Settings").to_string(),
            })
        })
        .collect()
}

/// The README's settings section: a table per heading.
pub fn markdown() -> String {
    let mut out = String::new();
    let mut heading = None;
    for setting in documented() {
        if heading.as_ref() != Some(&setting.heading) {
            if heading.is_some() {
                out.push('\n');
            }
            out.push_str(&format!(
                "### {}\n\n| Variable | Default | Meaning |\n|---|---|---|\n",
                setting.heading
            ));
            heading = Some(setting.heading.clone());
        }
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            setting.var,
            cell(&setting.default),
            cell(&setting.help)
        ));
    }
    out
}

/// A pipe would end the table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEGIN: &str = "<!-- settings: generated from src/config/settings.rs -->\n";
    const END: &str = "<!-- end of settings -->\n";

    /// The README lists exactly what the code declares. `FUNDI_UPDATE_README=1 cargo test --lib
    /// readme` rewrites the list from the declarations.
    #[test]
    fn the_readme_settings_tables_match_the_declarations() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let start = readme.find(BEGIN).expect("README has the settings marker") + BEGIN.len();
        let end = start
            + readme[start..]
                .find(END)
                .expect("README has the end marker");
        let generated = format!("\n{}\n", markdown());
        if readme[start..end] == generated {
            return;
        }
        if std::env::var_os("FUNDI_UPDATE_README").is_some() {
            let updated = format!("{}{generated}{}", &readme[..start], &readme[end..]);
            std::fs::write(path, updated).unwrap();
            return;
        }
        panic!(
            "README.md's settings tables are stale: run `FUNDI_UPDATE_README=1 cargo test --lib readme`"
        );
    }

    #[test]
    fn each_flag_is_its_variable_without_the_prefix() {
        let command = command();
        let settings: Vec<_> = command
            .get_arguments()
            .filter(|arg| arg.get_id() != "help")
            .collect();
        assert!(settings.len() > 70, "{}", settings.len());
        for arg in settings {
            let var = arg.get_env().and_then(|v| v.to_str()).expect("env name");
            let expected = var.strip_prefix("FUNDI_").unwrap().to_lowercase();
            assert_eq!(arg.get_long(), Some(expected.replace('_', "-").as_str()));
            assert_eq!(arg.get_id(), expected.as_str());
            assert!(arg.get_help().is_some(), "{var} has no help");
            assert!(
                !arg.get_default_values().is_empty() || documented_default(var),
                "{var} says neither a default nor what happens unset"
            );
        }
    }

    fn documented_default(var: &str) -> bool {
        documented()
            .iter()
            .any(|s| s.var == var && !s.default.is_empty())
    }
}
