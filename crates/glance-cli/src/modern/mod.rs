//! python-glanceclient's v2 commands (`image-list`, `image-create`, `member-list`, ...)
//! with its `--os-*` options and its table output, over glance-client.

mod args;
mod table;

use std::io::Write;

use glance_client::{ClientError, GlanceClient, PasswordAuth};
use serde_json::{json, Map, Value};

use args::CommandArgs;
use table::{dict_table, list_table};

/// The commands this mode answers.
pub const COMMANDS: &[&str] = &[
    "image-list",
    "image-show",
    "image-create",
    "image-update",
    "image-delete",
    "image-upload",
    "image-download",
    "image-deactivate",
    "image-reactivate",
    "image-tag-update",
    "image-tag-delete",
    "member-list",
    "member-create",
    "member-update",
    "member-delete",
    "import-info",
    "stores-info",
];

/// Image keys print_image leaves out.
const HIDDEN_KEYS: &[&str] = &["self", "access", "file", "schema"];
/// Options of image-create/update whose values are not strings.
const INT_OPTIONS: &[&str] = &["min-disk", "min-ram"];
const BOOL_OPTIONS: &[&str] = &["protected", "os-hidden"];
/// Options that are not image attributes.
const NOT_ATTRIBUTES: &[&str] = &[
    "property",
    "file",
    "store",
    "remove-property",
    "tags",
    "size",
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
    match execute(&client, &command, &inv.args).await {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            0
        }
        Err(Failure::Usage(message)) => {
            eprintln!("glance {command}: error: {message}");
            2
        }
        Err(Failure::Client(e)) => {
            eprintln!("{}", describe(&e));
            1
        }
    }
}

enum Failure {
    Usage(String),
    Client(ClientError),
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

/// `print_image`: the image's keys but the hidden ones, `virtual_size` shown as
/// "Not available" when unset.
fn image_table(image: &Value) -> String {
    let mut entries: Vec<(String, Value)> = image
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !HIDDEN_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in &mut entries {
        if k == "virtual_size" && (v.is_null() || v.as_i64() == Some(0)) {
            *v = json!("Not available");
        }
    }
    dict_table(&entries, 80)
}

/// The image attributes and properties an image-create/update names.
fn attributes(args: &CommandArgs) -> Result<Map<String, Value>, Failure> {
    let mut body = Map::new();
    for (option, values) in &args.options {
        if NOT_ATTRIBUTES.contains(&option.as_str()) {
            continue;
        }
        let Some(value) = values.last() else { continue };
        let key = option.replace('-', "_");
        let typed = if INT_OPTIONS.contains(&option.as_str()) {
            json!(value.parse::<i64>().map_err(|_| Failure::Usage(format!(
                "argument --{option}: invalid int value: '{value}'"
            )))?)
        } else if BOOL_OPTIONS.contains(&option.as_str()) {
            json!(value.eq_ignore_ascii_case("true"))
        } else {
            json!(value)
        };
        body.insert(key, typed);
    }
    if !args.all("tags").is_empty() {
        body.insert("tags".into(), json!(args.all("tags")));
    }
    for pair in args.all("property") {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            Failure::Usage(format!(
                "Arguments to --property need to be in the form key=value; got {pair}"
            ))
        })?;
        body.insert(k.to_string(), json!(v));
    }
    Ok(body)
}

async fn file_or_stdin(args: &CommandArgs) -> Result<Option<glance_client::ImageData>, Failure> {
    if let Some(path) = args.one("file") {
        return Ok(Some(
            glance_client::file_data(std::path::Path::new(path)).await?,
        ));
    }
    Ok(crate::legacy::stdin_data()
        .await
        .map_err(ClientError::from)?)
}

async fn execute(
    client: &GlanceClient,
    command: &str,
    args: &CommandArgs,
) -> Result<String, Failure> {
    Ok(match command {
        "image-list" => {
            let mut params: Vec<(String, String)> = Vec::new();
            let page_size = args.one("page-size").unwrap_or("20").to_string();
            params.push(("limit".into(), page_size));
            for key in [
                "visibility",
                "member-status",
                "owner",
                "checksum",
                "tag",
                "sort-key",
                "sort-dir",
                "sort",
                "os-hidden",
            ] {
                for v in args.all(key) {
                    params.push((key.replace('-', "_"), v.clone()));
                }
            }
            for pair in args.all("property-filter") {
                if let Some((k, v)) = pair.split_once('=') {
                    params.push((k.to_string(), v.to_string()));
                }
            }
            let limit = args.one("limit").and_then(|l| l.parse().ok());
            let images = client.list_images(&params, limit).await?;
            let rows: Vec<Vec<Value>> = images
                .iter()
                .map(|i| vec![i["id"].clone(), i["name"].clone()])
                .collect();
            list_table(&["ID", "Name"], &rows)
        }
        "image-show" => image_table(
            &client
                .show_image(positional(args, 0, "<IMAGE_ID>")?)
                .await?,
        ),
        "image-create" => {
            let body = attributes(args)?;
            let data = file_or_stdin(args).await?;
            let image = client.create_image(&Value::Object(body)).await?;
            let id = image["id"].as_str().unwrap_or_default().to_string();
            match data {
                Some(data) => {
                    client.upload_image(&id, data, args.one("store")).await?;
                    image_table(&client.show_image(&id).await?)
                }
                None => image_table(&image),
            }
        }
        "image-update" => {
            let id = positional(args, 0, "<IMAGE_ID>")?;
            let current = client.show_image(id).await?;
            let mut ops: Vec<Value> = Vec::new();
            for (key, value) in attributes(args)? {
                let op = if current.get(&key).is_some() {
                    "replace"
                } else {
                    "add"
                };
                ops.push(json!({"op": op, "path": format!("/{key}"), "value": value}));
            }
            for key in args.all("remove-property") {
                ops.push(json!({"op": "remove", "path": format!("/{key}")}));
            }
            let image = if ops.is_empty() {
                current
            } else {
                client.patch_image(id, &ops).await?
            };
            image_table(&image)
        }
        "image-delete" => {
            for id in &args.positional {
                client.remove_image(id).await?;
            }
            String::new()
        }
        "image-upload" => {
            let id = positional(args, 0, "<IMAGE_ID>")?;
            let data = file_or_stdin(args)
                .await?
                .ok_or_else(|| Failure::Usage("Must supply either --file or stdin.".into()))?;
            client.upload_image(id, data, args.one("store")).await?;
            String::new()
        }
        "image-download" => {
            let id = positional(args, 0, "<IMAGE_ID>")?;
            download(client, id, args.one("file")).await?;
            String::new()
        }
        "image-deactivate" => {
            client
                .deactivate_image(positional(args, 0, "<IMAGE_ID>")?)
                .await?;
            String::new()
        }
        "image-reactivate" => {
            client
                .reactivate_image(positional(args, 0, "<IMAGE_ID>")?)
                .await?;
            String::new()
        }
        "image-tag-update" | "image-tag-delete" => {
            let id = positional(args, 0, "<IMAGE_ID>")?;
            let tag = positional(args, 1, "<TAG_VALUE>")?;
            if command == "image-tag-update" {
                client.add_tag(id, tag).await?;
            } else {
                client.delete_tag(id, tag).await?;
            }
            String::new()
        }
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
            String::new()
        }
        "import-info" => object_table(&client.import_info().await?),
        _ => object_table(&client.stores_info(false).await?),
    })
}

fn object_table(document: &Value) -> String {
    let entries: Vec<(String, Value)> = document
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    dict_table(&entries, 80)
}

fn member_rows(members: &[Value]) -> String {
    let rows: Vec<Vec<Value>> = members
        .iter()
        .map(|m| {
            vec![
                m["image_id"].clone(),
                m["member_id"].clone(),
                m["status"].clone(),
            ]
        })
        .collect();
    list_table(&["Image ID", "Member ID", "Status"], &rows)
}

/// Writes the image's data to `file` (or standard output), checking its MD5.
async fn download(client: &GlanceClient, id: &str, file: Option<&str>) -> Result<(), Failure> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let Some(mut download) = client.download_image(id).await? else {
        return Err(Failure::Usage("Image has no data.".into()));
    };
    let mut sink: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match file {
        Some(path) => Box::new(
            tokio::fs::File::create(path)
                .await
                .map_err(ClientError::from)?,
        ),
        None => Box::new(
            tokio::fs::OpenOptions::new()
                .write(true)
                .open("/dev/stdout")
                .await
                .map_err(ClientError::from)?,
        ),
    };
    use md5::{Digest, Md5};
    let mut md5 = Md5::new();
    while let Some(chunk) = download.stream.next().await {
        let chunk = chunk.map_err(ClientError::from)?;
        md5.update(&chunk);
        sink.write_all(&chunk).await.map_err(ClientError::from)?;
    }
    sink.flush().await.map_err(ClientError::from)?;
    if let Some(expected) = download.checksum {
        let got = format!("{:x}", md5.finalize());
        if got != expected {
            return Err(Failure::Client(ClientError::Protocol(format!(
                "Corrupt image download. Checksum was {got} expected {expected}"
            ))));
        }
    }
    Ok(())
}
