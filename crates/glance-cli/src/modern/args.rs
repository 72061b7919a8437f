//! python-glanceclient's command line: `--os-*` options before the command, then the
//! command's own `--option value` pairs (repeatable ones collect), flags and positionals.

use std::collections::BTreeMap;

/// Options of a command that take no value.
const FLAGS: &[&str] = &[
    "--progress",
    "--human-readable",
    "--allow-md5-fallback",
    "--detail",
];
/// Options of a command that take one or more values (argparse's `nargs='+'`): they
/// take every following argument up to the next option.
const MULTI_VALUE: &[&str] = &["--tags"];
/// Global switches glanceclient takes before the command, by their long name.
const GLOBAL_SWITCHES: &[(&str, &str)] = &[
    ("--debug", "debug"),
    ("-d", "debug"),
    ("--insecure", "insecure"),
    ("--verbose", "verbose"),
    ("-v", "verbose"),
    ("--force", "force"),
    ("-f", "force"),
    ("--get-schema", "get-schema"),
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
            if let Some((_, key)) = GLOBAL_SWITCHES.iter().find(|(n, _)| *n == name) {
                inv.globals.insert(key.to_string(), "true".into());
            } else if name.starts_with("--os-") {
                let value = value_of(&mut i, &name, inline)?;
                inv.globals
                    .insert(name.trim_start_matches("--").to_string(), value);
            } else if name.starts_with('-') {
                return Err(format!("unrecognized arguments: {arg}"));
            } else {
                inv.command = Some(arg);
            }
            continue;
        }
        // After the command, `-f` is the output format (`-f json`, `-fjson`), as in
        // openstackclient; glanceclient's `-f/--force` is a global option, before it.
        let (name, inline) = match arg.strip_prefix("-f") {
            Some(rest) if !arg.starts_with("--") => ("--format".to_string(), Some(rest)),
            _ => (name, inline),
        };
        let inline = inline.filter(|v| !v.is_empty() || !name.eq("--format"));
        if FLAGS.contains(&name.as_str()) {
            inv.args.flags.push(name);
        } else if MULTI_VALUE.contains(&name.as_str()) {
            let mut values: Vec<String> = inline.map(str::to_string).into_iter().collect();
            while let Some(next) = argv.get(i).filter(|a| !a.starts_with('-')) {
                values.push(next.clone());
                i += 1;
            }
            if values.is_empty() {
                return Err(format!("argument {name}: expected at least one argument"));
            }
            // A repeated nargs='+' option replaces the earlier values, as argparse does.
            inv.args
                .options
                .insert(name.trim_start_matches("--").to_string(), values);
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

    fn argv(words: &str) -> Vec<String> {
        words.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn format_follows_the_command_and_force_precedes_it() {
        for line in [
            "-f image-show -f json x",
            "-f image-show -fjson x",
            "-f image-show --format json x",
            "-f image-show --format=json x",
        ] {
            let inv = parse(&argv(line)).unwrap();
            assert_eq!(inv.globals["force"], "true", "{line}");
            assert_eq!(inv.args.one("format"), Some("json"), "{line}");
            assert_eq!(inv.args.positional, ["x"], "{line}");
        }
        let inv = parse(&argv("-v --debug image-tasks x")).unwrap();
        assert_eq!(inv.globals["verbose"], "true");
        assert_eq!(inv.globals["debug"], "true");
    }

    #[test]
    fn tags_take_several_values_and_a_repeat_replaces_them() {
        let inv = parse(&argv("image-create --tags a b --name n --tags c d")).unwrap();
        assert_eq!(inv.args.all("tags"), ["c", "d"]);
        assert_eq!(inv.args.one("name"), Some("n"));
        let inv = parse(&argv("image-create --tags=a b")).unwrap();
        assert_eq!(inv.args.all("tags"), ["a", "b"]);
        assert!(parse(&argv("image-create --tags --name n")).is_err());
    }
}
