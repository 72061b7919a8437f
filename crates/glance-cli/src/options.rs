//! The command line as the seeds' `glance` (Python optparse) reads it: options may come
//! before or after the command and its arguments, `--` ends them, `--opt=value`,
//! `--opt value`, `-Hvalue` and `-H value` all work; errors exit 2.

/// What the options say.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub verbose: bool,
    pub debug: bool,
    pub host: String,
    pub port: u16,
    pub auth_token: Option<String>,
    pub limit: u64,
    pub marker: Option<String>,
    pub sort_key: Option<String>,
    pub sort_dir: Option<String>,
    pub force: bool,
    pub dry_run: bool,
    pub can_share: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            verbose: false,
            debug: false,
            host: "0.0.0.0".into(),
            port: 9292,
            auth_token: None,
            limit: 10,
            marker: None,
            sort_key: None,
            sort_dir: None,
            force: false,
            dry_run: false,
            can_share: false,
        }
    }
}

/// The outcome of reading the command line.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// Options and the positional arguments (command first).
    Run(Options, Vec<String>),
    Help,
    Version,
    /// An optparse error: the message after `glance: error: `.
    Error(String),
}

const FLAGS: &[(&str, &str)] = &[
    ("-v", "--verbose"),
    ("-d", "--debug"),
    ("-f", "--force"),
    ("", "--dry-run"),
    ("", "--can-share"),
];

const VALUED: &[(&str, &str)] = &[
    ("-H", "--host"),
    ("-p", "--port"),
    ("-A", "--auth_token"),
    ("", "--limit"),
    ("", "--marker"),
    ("", "--sort_key"),
    ("", "--sort_dir"),
];

pub fn parse(args: &[String]) -> Parsed {
    if args.is_empty() {
        return Parsed::Help;
    }
    let mut options = Options::default();
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            positional.extend(args[i..].iter().cloned());
            break;
        }
        if arg == "-h" || arg == "--help" {
            return Parsed::Help;
        }
        if arg == "--version" {
            return Parsed::Version;
        }
        if !arg.starts_with('-') || arg == "-" {
            positional.push(arg.clone());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if arg.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ if !arg.starts_with("--") && arg.len() > 2 => {
                (arg[..2].to_string(), Some(arg[2..].to_string()))
            }
            _ => (arg.clone(), None),
        };
        if let Some((_, long)) = FLAGS.iter().find(|(s, l)| *s == name || *l == name) {
            if inline.is_some() && name.starts_with("--") {
                return Parsed::Error(format!("{long} option does not take a value"));
            }
            match *long {
                "--verbose" => options.verbose = true,
                "--debug" => options.debug = true,
                "--force" => options.force = true,
                "--dry-run" => options.dry_run = true,
                _ => options.can_share = true,
            }
            continue;
        }
        let Some((short, long)) = VALUED.iter().find(|(s, l)| *s == name || *l == name) else {
            return Parsed::Error(format!("no such option: {name}"));
        };
        let shown = if name.starts_with("--") {
            *long
        } else {
            *short
        };
        let value = match inline {
            Some(v) => v,
            None if i < args.len() => {
                i += 1;
                args[i - 1].clone()
            }
            None => return Parsed::Error(format!("{shown} option requires an argument")),
        };
        let integer = |v: &str| v.trim().parse::<u64>().ok();
        match *long {
            "--host" => options.host = value,
            "--port" => match integer(&value).and_then(|p| u16::try_from(p).ok()) {
                Some(p) => options.port = p,
                None => {
                    return Parsed::Error(format!(
                        "option {shown}: invalid integer value: '{value}'"
                    ))
                }
            },
            "--auth_token" => options.auth_token = Some(value),
            "--limit" => match integer(&value) {
                Some(l) => options.limit = l,
                None => {
                    return Parsed::Error(format!(
                        "option {shown}: invalid integer value: '{value}'"
                    ))
                }
            },
            "--marker" => options.marker = Some(value),
            "--sort_key" => options.sort_key = Some(value),
            _ => options.sort_dir = Some(value),
        }
    }
    Parsed::Run(options, positional)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Parsed {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options_may_come_anywhere_in_every_spelling() {
        let Parsed::Run(o, rest) = run(&[
            "-v",
            "add",
            "name=x",
            "--host=10.0.0.1",
            "-p",
            "9393",
            "-Atok",
            "--limit",
            "5",
            "--dry-run",
        ]) else {
            panic!()
        };
        assert!(o.verbose && o.dry_run && !o.force);
        assert_eq!(
            (o.host.as_str(), o.port, o.auth_token.as_deref(), o.limit),
            ("10.0.0.1", 9393, Some("tok"), 5)
        );
        assert_eq!(rest, ["add", "name=x"]);
        let Parsed::Run(_, rest) = run(&["delete", "--", "-f"]) else {
            panic!()
        };
        assert_eq!(rest, ["delete", "-f"]);
    }

    #[test]
    fn errors_are_optparse_messages() {
        assert_eq!(
            run(&["--bogus"]),
            Parsed::Error("no such option: --bogus".into())
        );
        assert_eq!(
            run(&["--port=abc", "index"]),
            Parsed::Error("option --port: invalid integer value: 'abc'".into())
        );
        assert_eq!(
            run(&["index", "-H"]),
            Parsed::Error("-H option requires an argument".into())
        );
        assert_eq!(run(&[]), Parsed::Help);
        assert_eq!(run(&["index", "--version"]), Parsed::Version);
    }
}
