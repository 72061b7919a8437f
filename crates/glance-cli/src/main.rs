//! `glance`: the seeds' command-line tool (Diablo's commands and options) over the
//! legacy v1 API, and python-glanceclient's v2 commands (`image-list`, ... with the
//! `--os-*` options). `glance help` lists the seeds' commands.

mod help;
mod legacy;
mod modern;
mod options;

use std::time::Instant;

use glance_client::{GlanceClient, PasswordAuth};

use legacy::{Session, FAILURE, SUCCESS};
use options::{parse, Options, Parsed};

/// The client for the options: `-A` gives the token; `OS_AUTH_STRATEGY=keystone`
/// with `OS_AUTH_USER`, `OS_AUTH_KEY`, `OS_AUTH_TENANT` and `OS_AUTH_URL` gets one
/// from Keystone (v3, default domain), as the seeds' environment variables say.
async fn client(options: &Options) -> Result<GlanceClient, String> {
    let endpoint = format!("http://{}:{}", options.host, options.port);
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let client = GlanceClient::new(&endpoint).map_err(|e| e.to_string())?;
    if let Some(token) = &options.auth_token {
        return Ok(client.with_token(token.clone()));
    }
    match env("OS_AUTH_STRATEGY").as_deref() {
        None | Some("noauth") => Ok(client),
        Some("keystone") => {
            let auth = PasswordAuth {
                auth_url: env("OS_AUTH_URL").unwrap_or_default(),
                username: env("OS_AUTH_USER").unwrap_or_default(),
                password: env("OS_AUTH_KEY").unwrap_or_default(),
                project_name: env("OS_AUTH_TENANT").unwrap_or_default(),
                user_domain: "Default".into(),
                project_domain: "Default".into(),
                interface: "public".into(),
                region: None,
            };
            GlanceClient::from_keystone(&auth, Some(&endpoint))
                .await
                .map_err(|e| format!("Failed to authenticate with Keystone: {e}"))
        }
        Some(other) => Err(format!("Unknown auth strategy '{other}'")),
    }
}

fn print_usage() {
    println!("{}", help::USAGE);
}

async fn run(args: Vec<String>) -> i32 {
    if modern::wants(&args) {
        return modern::run(&args).await;
    }
    let (options, mut positional) = match parse(&args) {
        Parsed::Help => {
            println!("{}\n{}", help::USAGE, help::OPTIONS);
            return SUCCESS;
        }
        Parsed::Version => {
            println!("{}", help::VERSION);
            return SUCCESS;
        }
        Parsed::Error(message) => {
            eprintln!("{}", help::USAGE);
            eprintln!("glance: error: {message}");
            return 2;
        }
        Parsed::Run(options, positional) => (options, positional),
    };
    if positional.is_empty() {
        print_usage();
        return SUCCESS;
    }
    let command = positional.remove(0);
    if command == "help" {
        if positional.len() != 1 {
            eprintln!("Please specify a command");
            return FAILURE;
        }
        return match help::command_help(&positional[0]) {
            Some(text) => {
                println!("{text}");
                SUCCESS
            }
            None => {
                print_usage();
                eprintln!("Unknown command: {}", positional[0]);
                FAILURE
            }
        };
    }
    if help::command_help(&command).is_none() {
        print_usage();
        eprintln!("Unknown command: {command}");
        return FAILURE;
    }
    let client = match client(&options).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return FAILURE;
        }
    };
    let verbose = options.verbose;
    let session = Session { options, client };
    let started = Instant::now();
    let result = legacy::run(&session, &command, positional)
        .await
        .unwrap_or(FAILURE);
    if verbose {
        println!("Completed in {:.4} sec.", started.elapsed().as_secs_f64());
    }
    result
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let code = runtime.block_on(run(args));
    std::process::exit(code);
}
