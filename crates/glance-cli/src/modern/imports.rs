//! The interoperable import commands: image-stage, image-import and
//! image-create-via-import, with python-glanceclient's checks and messages (each
//! check runs where glanceclient runs it, so the same mistakes fail the same way
//! and leave the same images behind).

use glance_client::{ClientError, GlanceClient, ImageData};
use serde_json::{json, Value};

use super::args::CommandArgs;
use super::images::{attributes, data_source, image_output, require_formats};
use super::output::Output;
use super::{bool_from_string, env, positional, Failure};

/// Runs `command` if it is an import command.
pub(super) async fn execute(
    client: &GlanceClient,
    command: &str,
    args: &CommandArgs,
) -> Result<Option<Output>, Failure> {
    Ok(Some(match command {
        "image-stage" => {
            let id = positional(args, 0, "<IMAGE_ID>")?;
            // With neither a file nor data on standard input glanceclient stages an
            // empty body (the image goes to `uploading` with size 0); so do we.
            let data = data_source(args).await?.unwrap_or_else(|| ImageData {
                stream: Box::pin(futures_util::stream::empty()),
                size: Some(0),
            });
            client.stage_image(id, data).await?;
            Output::Nothing
        }
        "image-import" => import(client, args).await?,
        "image-create-via-import" => create_via_import(client, args).await?,
        _ => return Ok(None),
    }))
}

/// The import settings of image-import and image-create-via-import, with the
/// `OS_IMAGE_*` defaults glanceclient reads.
struct Settings {
    method: Option<String>,
    uri: Option<String>,
    remote_region: Option<String>,
    remote_image_id: Option<String>,
    remote_service_interface: String,
    store: Option<String>,
    stores: Option<String>,
    all_stores: bool,
    allow_failure: bool,
}

impl Settings {
    fn read(args: &CommandArgs, default_method: Option<&str>) -> Settings {
        let option = |name: &str| args.one(name).map(str::to_string);
        let with_env = |name: &str, var: &str| option(name).or_else(|| env(var));
        Settings {
            method: with_env("import-method", "OS_IMAGE_IMPORT_METHOD")
                .or(default_method.map(str::to_string)),
            uri: option("uri"),
            remote_region: option("remote-region"),
            remote_image_id: option("remote-image-id"),
            remote_service_interface: option("remote-service-interface")
                .unwrap_or_else(|| "public".into()),
            store: with_env("store", "OS_IMAGE_STORE"),
            stores: with_env("stores", "OS_IMAGE_STORES"),
            all_stores: args.one("all-stores").is_some_and(bool_from_string),
            allow_failure: with_env("allow-failure", "OS_IMAGE_ALLOW_FAILURE")
                .is_none_or(|v| bool_from_string(&v)),
        }
    }

    /// `--store`, `--stores` and `--all-stores` exclude each other.
    fn check_one_target(&self) -> Result<(), Failure> {
        let given = [self.store.is_some(), self.stores.is_some(), self.all_stores];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(Failure::Exit(
                "Only one of --store, --stores and --all-stores can be provided".into(),
            ));
        }
        Ok(())
    }

    /// The stores of `--stores`, each checked against the cloud's, or `--store`'s.
    async fn checked_targets(&self, client: &GlanceClient) -> Result<Vec<String>, Failure> {
        if let Some(store) = &self.store {
            validate_backend(client, store).await?;
            return Ok(Vec::new());
        }
        let stores: Vec<String> = self
            .stores
            .iter()
            .flat_map(|s| s.split(',').map(str::to_string))
            .collect();
        for store in &stores {
            validate_backend(client, store).await?;
        }
        Ok(stores)
    }

    /// The request glanceclient's `image_import` sends.
    fn body(&self, method: &str, stores: &[String]) -> Value {
        let mut body = json!({"method": {"name": method}});
        if !stores.is_empty() {
            body["stores"] = json!(stores);
            if self.allow_failure {
                body["all_stores_must_succeed"] = json!(false);
            }
        }
        if self.all_stores {
            body["all_stores"] = json!(true);
            if self.allow_failure {
                body["all_stores_must_succeed"] = json!(false);
            }
        }
        if let (Some(region), Some(remote_id)) = (&self.remote_region, &self.remote_image_id) {
            body["method"]["glance_service_interface"] = json!(self.remote_service_interface);
            body["method"]["glance_region"] = json!(region);
            body["method"]["glance_image_id"] = json!(remote_id);
        }
        if let Some(uri) = &self.uri {
            body["method"]["uri"] = json!(uri);
        }
        body
    }
}

/// The store must be one of `/v2/info/stores` (not checked where that is a 404).
async fn validate_backend(client: &GlanceClient, store: &str) -> Result<(), Failure> {
    let info = match client.stores_info(false).await {
        Ok(info) => info,
        Err(ClientError::Http { status: 404, .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let known = info["stores"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["id"] == store);
    if known {
        Ok(())
    } else {
        Err(Failure::Exit(format!(
            "Store '{store}' is not valid for this cloud. Valid values can be retrieved with stores-info command."
        )))
    }
}

/// The import methods the cloud offers (`/v2/info/import`).
async fn import_methods(client: &GlanceClient) -> Result<Vec<String>, ClientError> {
    let info = client.import_info().await?;
    Ok(info["import-methods"]["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect())
}

fn exit(message: &str) -> Failure {
    Failure::Exit(message.to_string())
}

fn check_method(method: &str, offered: &[String]) -> Result<(), Failure> {
    if offered.iter().any(|m| m == method) {
        return Ok(());
    }
    Err(Failure::Exit(format!(
        "Import method '{method}' is not valid for this cloud. Valid values can be retrieved with import-info command."
    )))
}

/// `image-import`: checks the request against the cloud and the image, imports,
/// prints the image.
async fn import(client: &GlanceClient, args: &CommandArgs) -> Result<Output, Failure> {
    let id = positional(args, 0, "<IMAGE_ID>")?;
    let settings = Settings::read(args, Some("glance-direct"));
    settings.check_one_target()?;
    let stores = settings.checked_targets(client).await?;
    let offered = match import_methods(client).await {
        Ok(offered) => offered,
        Err(ClientError::Http { status: 404, .. }) => {
            return Err(exit("Target Glance does not support Image Import workflow"))
        }
        Err(e) => return Err(e.into()),
    };
    let method = settings.method.clone().unwrap_or_default();
    check_method(&method, &offered)?;
    let remote = settings.remote_region.is_some() && settings.remote_image_id.is_some();
    if method == "web-download" && settings.uri.is_none() {
        return Err(exit("Provide URI for web-download import method."));
    }
    if settings.uri.is_some() && method != "web-download" {
        return Err(exit(
            "Import method should be 'web-download' if URI is provided.",
        ));
    }
    if method == "glance-download" && !remote {
        return Err(exit(
            "Provide REMOTE_IMAGE_ID and remote-region for 'glance-download' import method.",
        ));
    }
    if settings.remote_region.is_some() && method != "glance-download" {
        return Err(exit(
            "Import method should be 'glance-download' if REMOTE REGION is provided.",
        ));
    }
    if settings.remote_image_id.is_some() && method != "glance-download" {
        return Err(exit(
            "Import method should be 'glance-download' if REMOTE IMAGE ID is provided.",
        ));
    }
    if method == "copy-image" && stores.is_empty() && !settings.all_stores {
        return Err(exit(
            "Provide either --stores or --all-stores for 'copy-image' import method.",
        ));
    }
    let image = client.show_image(id).await?;
    let set = |key: &str| image[key].as_str().is_some_and(|v| !v.is_empty());
    if !(set("container_format") && set("disk_format")) {
        return Err(exit(
            "The 'container_format' and 'disk_format' properties must be set on an image before it can be imported.",
        ));
    }
    let status = image["status"].as_str().unwrap_or_default();
    match method.as_str() {
        "glance-direct" if status != "uploading" => {
            return Err(exit("The 'glance-direct' import method can only be applied to an image in status 'uploading'"))
        }
        "web-download" if status != "queued" => {
            return Err(exit("The 'web-download' import method can only be applied to an image in status 'queued'"))
        }
        "copy-image" if status != "active" => {
            return Err(exit("The 'copy-image' import method can only be used on an image with status 'active'."))
        }
        _ => {}
    }
    let body = settings.body(&method, &stores);
    client
        .import_image(id, &body, settings.store.as_deref())
        .await?;
    Ok(image_output(&client.show_image(id).await?))
}

/// `image-create-via-import`: image-create's attributes, then staging and import
/// by the method (glance-direct when data is given without one); a plain image
/// record when there is neither.
async fn create_via_import(client: &GlanceClient, args: &CommandArgs) -> Result<Output, Failure> {
    let body = attributes(args)?;
    let data = data_source(args).await?;
    require_formats(args, data.is_some())?;
    if args.one("size").is_some() {
        return Err(exit(
            "Setting 'size' during image creation is not supported. Please use --size only when uploading data.",
        ));
    }
    let mut settings = Settings::read(args, None);
    let from_file = args.one("file").is_some();
    let has_data = data.is_some();
    if settings.method.is_none() && has_data {
        settings.method = Some("glance-direct".into());
    }
    if settings.method.as_deref() == Some("copy-image") {
        return Err(exit(
            "Import method 'copy-image' cannot be used while creating the image.",
        ));
    }
    let offered = import_methods(client).await?;
    if let Some(method) = &settings.method {
        check_method(method, &offered)?;
    }
    settings.check_one_target()?;
    let stores = settings.checked_targets(client).await?;
    check_create_inputs(&settings, from_file, has_data)?;

    let image = client.create_image(&Value::Object(body)).await?;
    let id = image["id"].as_str().unwrap_or_default().to_string();
    let Some(method) = settings.method.clone() else {
        return Ok(image_output(&image));
    };
    let imported = async {
        if let Some(data) = data {
            client.stage_image(&id, data).await?;
        }
        let body = settings.body(&method, &stores);
        client
            .import_image(&id, &body, settings.store.as_deref())
            .await?;
        client.show_image(&id).await
    }
    .await;
    match imported {
        Ok(image) => Ok(image_output(&image)),
        // glanceclient prints the image it created before the error.
        Err(e) => Err(Failure::After(image_output(&image), Box::new(e.into()))),
    }
}

/// image-create-via-import's checks that each method has its own data source.
fn check_create_inputs(
    settings: &Settings,
    from_file: bool,
    has_data: bool,
) -> Result<(), Failure> {
    let stdin = has_data && !from_file;
    let targets = [
        (settings.store.is_some(), "--store"),
        (settings.stores.is_some(), "--stores"),
        (settings.all_stores, "--all-stores"),
    ];
    match settings.method.as_deref() {
        None if settings.uri.is_some() => Err(exit(
            "You cannot use --uri without specifying an import method.",
        )),
        Some("glance-direct") => {
            if let Some((_, option)) = targets.iter().find(|(given, _)| *given && !has_data) {
                return Err(Failure::Exit(format!(
                    "{option} option should only be provided with --file option or stdin for the glance-direct import method."
                )));
            }
            if settings.uri.is_some() {
                return Err(exit(
                    "You cannot specify a --uri with the glance-direct import method.",
                ));
            }
            if !has_data {
                return Err(exit("You must specify a --file or provide data via stdin for the glance-direct import method."));
            }
            Ok(())
        }
        Some("web-download") => {
            let uri = settings.uri.is_some();
            if let Some((_, option)) = targets.iter().find(|(given, _)| *given && !uri) {
                return Err(Failure::Exit(format!(
                    "{option} option should only be provided with --uri option for the web-download import method."
                )));
            }
            if !uri {
                return Err(exit(
                    "URI is required for web-download import method. Please use '--uri <uri>'.",
                ));
            }
            if from_file {
                return Err(exit(
                    "You cannot specify a --file with the web-download import method.",
                ));
            }
            if stdin {
                return Err(exit(
                    "You cannot pass data via stdin with the web-download import method.",
                ));
            }
            Ok(())
        }
        Some("glance-download") => {
            if settings.remote_region.is_none() || settings.remote_image_id.is_none() {
                return Err(exit("REMOTE GlANCE REGION and REMOTE IMAGE ID are required for glance-download import method. Please use --remote-region <region> and --remote-image-id <remote-image-id>."));
            }
            if settings.uri.is_some() {
                return Err(exit(
                    "You cannot specify a --uri with the glance-download import method.",
                ));
            }
            if from_file {
                return Err(exit(
                    "You cannot specify a --file with the glance-download import method.",
                ));
            }
            if stdin {
                return Err(exit(
                    "You cannot pass data via stdin with the glance-download import method.",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(words: &str) -> Settings {
        let argv: Vec<String> = std::iter::once("image-import".to_string())
            .chain(words.split_whitespace().map(str::to_string))
            .collect();
        let inv = super::super::args::parse(&argv).unwrap();
        Settings::read(&inv.args, Some("glance-direct"))
    }

    #[test]
    fn import_bodies_are_glanceclients() {
        let s = settings("--import-method web-download --uri http://x/i.raw");
        assert_eq!(
            s.body("web-download", &[]),
            json!({"method": {"name": "web-download", "uri": "http://x/i.raw"}})
        );
        let s = settings("--import-method copy-image --stores a,b");
        assert_eq!(
            s.body("copy-image", &["a".into(), "b".into()]),
            json!({"method": {"name": "copy-image"}, "stores": ["a", "b"], "all_stores_must_succeed": false})
        );
        let s = settings("--all-stores yes --allow-failure False");
        assert_eq!(
            s.body("glance-direct", &[]),
            json!({"method": {"name": "glance-direct"}, "all_stores": true})
        );
        let s = settings("--import-method glance-download --remote-region R --remote-image-id I");
        assert_eq!(
            s.body("glance-download", &[]),
            json!({"method": {"name": "glance-download", "glance_service_interface": "public",
                              "glance_region": "R", "glance_image_id": "I"}})
        );
    }

    #[test]
    fn one_target_at_most() {
        assert!(settings("--store a --stores b").check_one_target().is_err());
        assert!(settings("--stores b --all-stores true")
            .check_one_target()
            .is_err());
        assert!(settings("--stores b --all-stores false")
            .check_one_target()
            .is_ok());
    }
}
