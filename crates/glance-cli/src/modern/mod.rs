//! python-glanceclient's v2 commands (`image-list`, `image-create`, `member-list`, ...)
//! with its `--os-*` options and its table output, over glance-client.

mod args;
mod images;
mod imports;
mod output;
mod progress;
mod table;
mod tasks;
mod yaml;

use std::io::Write;

use glance_client::{ClientError, GlanceClient, PasswordAuth};
use serde_json::Value;

use args::CommandArgs;
use output::{Cells, Format, Output};

/// The commands this mode answers.
pub const COMMANDS: &[&str] = &[
    "image-list",
    "image-show",
    "image-create",
    "image-create-via-import",
    "image-update",
    "image-delete",
    "image-upload",
    "image-stage",
    "image-import",
    "image-download",
    "image-deactivate",
    "image-reactivate",
    "image-tag-update",
    "image-tag-delete",
    "image-tasks",
    "member-list",
    "member-create",
    "member-update",
    "member-delete",
    "import-info",
    "stores-info",
    "task-list",
    "task-show",
    "task-create",
];

/// Whether this command line is for the modern commands (`--os-*` options or a
/// command only they have).
pub fn wants(argv: &[String]) -> bool {
    argv.iter().any(|a| a.starts_with("--os-"))
        || argv
            .iter()
            .find(|a| !a.starts_with('-'))
            .is_some_and(|c| COMMANDS.contains(&c.as_str()) && c != "member-delete")
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn client(
    globals: &std::collections::BTreeMap<String, String>,
) -> Result<GlanceClient, String> {
    let get = |key: &str, var: &str| globals.get(key).cloned().or_else(|| env(var));
    let url = get("os-image-url", "OS_IMAGE_URL");
    if let Some(token) = get("os-auth-token", "OS_AUTH_TOKEN") {
        let url = url.ok_or("You must provide --os-image-url with --os-auth-token")?;
        return GlanceClient::new(&url)
            .map(|c| c.with_token(token))
            .map_err(|e| e.to_string());
    }
    match get("os-auth-url", "OS_AUTH_URL") {
        Some(auth_url) => {
            let auth = PasswordAuth {
                auth_url,
                username: get("os-username", "OS_USERNAME").unwrap_or_default(),
                password: get("os-password", "OS_PASSWORD").unwrap_or_default(),
                project_name: get("os-project-name", "OS_PROJECT_NAME").unwrap_or_default(),
                user_domain: get("os-user-domain-name", "OS_USER_DOMAIN_NAME")
                    .unwrap_or_else(|| "Default".into()),
                project_domain: get("os-project-domain-name", "OS_PROJECT_DOMAIN_NAME")
                    .unwrap_or_else(|| "Default".into()),
                interface: get("os-interface", "OS_INTERFACE").unwrap_or_else(|| "public".into()),
                region: get("os-region-name", "OS_REGION_NAME"),
            };
            GlanceClient::from_keystone(&auth, url.as_deref())
                .await
                .map_err(|e| e.to_string())
        }
        None => match url {
            Some(url) => GlanceClient::new(&url).map_err(|e| e.to_string()),
            None => Err(
                "You must provide a username via either --os-username or env[OS_USERNAME]".into(),
            ),
        },
    }
}

/// Runs the modern command line; the exit code.
pub async fn run(argv: &[String]) -> i32 {
    let inv = match args::parse(argv) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("glance: error: {e}");
            return 2;
        }
    };
    let Some(command) = inv.command.clone() else {
        eprintln!("glance: error: a command is required");
        return 2;
    };
    if !COMMANDS.contains(&command.as_str()) {
        eprintln!("glance: error: argument <subcommand>: invalid choice: '{command}'");
        return 2;
    }
    let client = match client(&inv.globals).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let format = match Format::parse(inv.args.one("format")) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("glance {command}: error: {e}");
            return 2;
        }
    };
    let session = Session {
        client,
        verbose: inv.globals.contains_key("verbose"),
    };
    match execute(&session, &command, &inv.args).await {
        Ok(output) => {
            print(&output, format);
            0
        }
        Err(failure) => report(&command, failure, format),
    }
}

fn print(output: &Output, format: Format) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(output.render(format).as_bytes());
    let _ = out.flush();
}

/// Prints a failure as glanceclient does; the exit code.
fn report(command: &str, failure: Failure, format: Format) -> i32 {
    match failure {
        Failure::Usage(message) => {
            eprintln!("glance {command}: error: {message}");
            2
        }
        Failure::Exit(message) => {
            eprintln!("{message}");
            1
        }
        Failure::Client(e) => {
            eprintln!("{}", describe(&e));
            1
        }
        Failure::After(output, failure) => {
            print(&output, format);
            report(command, *failure, format)
        }
    }
}

/// The client and the global switches a command reads.
pub(crate) struct Session {
    client: GlanceClient,
    /// `-v/--verbose`: more columns in image-list and image-tasks.
    verbose: bool,
}

#[derive(Debug)]
pub(crate) enum Failure {
    /// A command-line error (argparse's, exit 2).
    Usage(String),
    /// glanceclient's `utils.exit(message)`: the message alone, exit 1.
    Exit(String),
    Client(ClientError),
    /// The command printed `Output` before it failed (glanceclient's `finally:
    /// print_image(image)` after an image was created).
    After(Output, Box<Failure>),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure::Client(e)
    }
}

/// glanceclient's way of reporting an HTTP error: `HTTP <code> <reason>: <message>`.
fn describe(e: &ClientError) -> String {
    match e {
        ClientError::Http { status, message } => {
            let reason = hyper_reason(*status);
            format!("HTTP {status} {reason}: {message}")
        }
        other => other.to_string(),
    }
}

fn hyper_reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        _ => "Error",
    }
}

fn positional<'a>(args: &'a CommandArgs, n: usize, what: &str) -> Result<&'a str, Failure> {
    args.positional
        .get(n)
        .map(String::as_str)
        .ok_or_else(|| Failure::Usage(format!("the following arguments are required: {what}")))
}

/// oslo's `strutils.bool_from_string` (not strict): anything else is false.
fn bool_from_string(value: &str) -> bool {
    ["1", "t", "true", "on", "y", "yes"].contains(&value.trim().to_ascii_lowercase().as_str())
}

async fn execute(session: &Session, command: &str, args: &CommandArgs) -> Result<Output, Failure> {
    let client = &session.client;
    if let Some(output) = images::execute(session, command, args).await? {
        return Ok(output);
    }
    if let Some(output) = imports::execute(client, command, args).await? {
        return Ok(output);
    }
    if let Some(output) = tasks::execute(session, command, args).await? {
        return Ok(output);
    }
    Ok(match command {
        "member-list" => {
            let id = args.one("image-id").ok_or_else(|| {
                Failure::Usage("the following arguments are required: --image-id".into())
            })?;
            member_rows(&client.list_members(id).await?)
        }
        "member-create" => {
            let member = client
                .create_member(
                    positional(args, 0, "<IMAGE_ID>")?,
                    positional(args, 1, "<MEMBER_ID>")?,
                )
                .await?;
            member_rows(&[member])
        }
        "member-update" => {
            let member = client
                .update_member(
                    positional(args, 0, "<IMAGE_ID>")?,
                    positional(args, 1, "<MEMBER_ID>")?,
                    positional(args, 2, "<MEMBER_STATUS>")?,
                )
                .await?;
            member_rows(&[member])
        }
        "member-delete" => {
            client
                .delete_member_v2(
                    positional(args, 0, "<IMAGE_ID>")?,
                    positional(args, 1, "<MEMBER_ID>")?,
                )
                .await?;
            Output::Nothing
        }
        "import-info" => Output::object(&client.import_info().await?),
        _ => Output::object(
            &client
                .stores_info(args.flags.iter().any(|f| f == "--detail"))
                .await?,
        ),
    })
}

fn member_rows(members: &[Value]) -> Output {
    Output::rows(
        &["Image ID", "Member ID", "Status"],
        &["image_id", "member_id", "status"],
        members,
        Cells::Blank,
    )
}
