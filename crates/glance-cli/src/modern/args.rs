//! python-glanceclient's command line: `--os-*` options before the command, then the
//! command's own `--option value` pairs (repeatable ones collect), flags and positionals.

use std::collections::BTreeMap;

/// Options of a command that take no value.
const FLAGS: &[&str] = &[
    "--progress",
    "--human-readable",
    "--verbose",
    "--allow-md5-fallback",
];

#[derive(Debug, Default, Clone, PartialEq)]
pub struct CommandArgs {
    /// `--option value` (the name without dashes, `-` kept), in order, repeats kept.
    pub options: BTreeMap<String, Vec<String>>,
    pub flags: Vec<String>,
    pub positional: Vec<String>,
}

impl CommandArgs {
    pub fn one(&self, name: &str) -> Option<&str> {
        self.options
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    pub fn all(&self, name: &str) -> &[String] {
        self.options.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    #[cfg(test)]
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
}

/// The global `--os-*` settings, the command name and its arguments.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Invocation {
    pub globals: BTreeMap<String, String>,
    pub command: Option<String>,
    pub args: CommandArgs,
}

/// Splits the command line; `Err` is an argparse-style message.
pub fn parse(argv: &[String]) -> Result<Invocation, String> {
    let mut inv = Invocation::default();
    let mut i = 0;
    let value_of = |i: &mut usize, name: &str, inline: Option<&str>| -> Result<String, String> {
        if let Some(v) = inline {
            return Ok(v.to_string());
        }
        *i += 1;
        argv.get(*i - 1)
            .cloned()
            .ok_or_else(|| format!("argument {name}: expected one argument"))
    };
    while i < argv.len() {
        let arg = argv[i].clone();
        i += 1;
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if arg.starts_with("--") => (n.to_string(), Some(v)),
            _ => (arg.clone(), None),
        };
        if inv.command.is_none() {
            if name.starts_with("--os-") || name == "--debug" || name == "--insecure" {
                let value = if name == "--debug" || name == "--insecure" {
                    "true".to_string()
                } else {
                    value_of(&mut i, &name, inline)?
                };
                inv.globals
                    .insert(name.trim_start_matches("--").to_string(), value);
            } else if name.starts_with('-') {
                return Err(format!("unrecognized arguments: {arg}"));
            } else {
                inv.command = Some(arg);
            }
            continue;
        }
        if FLAGS.contains(&name.as_str()) {
            inv.args.flags.push(name);
        } else if let Some(option) = name.strip_prefix("--") {
            let value = value_of(&mut i, &name, inline)?;
            inv.args
                .options
                .entry(option.to_string())
                .or_default()
                .push(value);
        } else {
            inv.args.positional.push(arg);
        }
    }
    Ok(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globals_then_command_options_and_positionals() {
        let argv: Vec<String> = [
            "--os-image-url",
            "http://x:9292",
            "--os-auth-token=t",
            "image-create",
            "--name",
            "n",
            "--property",
            "a=1",
            "--property",
            "b=2",
            "--progress",
            "extra",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let inv = parse(&argv).unwrap();
        assert_eq!(inv.globals["os-image-url"], "http://x:9292");
        assert_eq!(inv.globals["os-auth-token"], "t");
        assert_eq!(inv.command.as_deref(), Some("image-create"));
        assert_eq!(inv.args.all("property"), ["a=1", "b=2"]);
        assert!(inv.args.flag("--progress"));
        assert_eq!(inv.args.positional, ["extra"]);
        assert!(parse(&["image-show".into(), "--name".into()]).is_err());
    }
}
