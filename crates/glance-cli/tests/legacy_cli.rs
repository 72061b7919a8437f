//! The seeds' `glance` commands (admin manual, chapters 7, 9 and 10) run as the real
//! binary against a real server on a loopback port (embedded default: SQLite and the
//! filesystem store, no authentication), checking what they print and what the server
//! holds afterwards.

use std::io::Write;
use std::process::{Command, Stdio};

struct Server {
    port: u16,
    _dir: tempfile::TempDir,
    _task: tokio::task::JoinHandle<()>,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = glance_config::load_from_str("").unwrap();
    settings.data_dir = dir.path().to_path_buf();
    let state = glance_server::build_state(settings).await.unwrap();
    let app = glance_api::build_app(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server {
        port,
        _dir: dir,
        _task: task,
    }
}

struct Run {
    code: i32,
    out: String,
    err: String,
}

/// Runs `glance -H 127.0.0.1 -p <port> args...` with `stdin` as its input (None: an
/// empty redirect, as from /dev/null).
async fn glance(s: &Server, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let port = s.port.to_string();
    let mut all = vec!["-H", "127.0.0.1", "-p", port.as_str()];
    all.extend_from_slice(args);
    let args: Vec<String> = all.iter().map(|a| a.to_string()).collect();
    let input = stdin.map(<[u8]>::to_vec);
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_glance"))
            .args(&args)
            .env_remove("OS_AUTH_STRATEGY")
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run glance");
        if let Some(data) = input {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(&data).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

/// The id in "Added new image with ID: <id>".
fn added_id(run: &Run) -> String {
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    run.out
        .lines()
        .find_map(|l| l.strip_prefix("Added new image with ID: "))
        .unwrap_or_else(|| panic!("no id in {}", run.out))
        .to_string()
}

async fn v1_json(s: &Server, path: &str) -> serde_json::Value {
    let port = s.port;
    let path = path.to_string();
    tokio::task::spawn_blocking(move || {
        let out = Command::new("curl")
            .args(["-sS", &format!("http://127.0.0.1:{port}{path}")])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn add_streams_stdin_and_show_prints_the_manual_block() {
    let s = server().await;
    let data: Vec<u8> = (0..150_000u32).map(|i| (i % 253) as u8).collect();
    let run = glance(
        &s,
        &[
            "add",
            "name=My Image",
            "is_public=true",
            "distro=Ubuntu",
            "dsk_format=vhd",
        ],
        Some(&data),
    )
    .await;
    let id = added_id(&run);
    let show = glance(&s, &["show", &id], None).await;
    assert_eq!(show.code, 0, "{}", show.err);
    assert_eq!(
        show.out,
        format!(
            "URI: http://127.0.0.1/images/{id}\nId: {id}\nPublic: Yes\nName: My Image\nStatus: active\n\
             Size: 150000\nDisk format: raw\nContainer format: ovf\nMinimum Ram Required (MB): 0\n\
             Minimum Disk Required (GB): 0\nProperty 'distro': Ubuntu\nProperty 'dsk_format': vhd\n"
        ),
        "a typo'd field is kept as a property, as the manual warns"
    );
    let detail = v1_json(&s, "/v1/images/detail").await;
    let image = &detail["images"][0];
    assert_eq!(image["id"], id.as_str());
    assert_eq!(image["size"], 150000);
    assert_eq!(image["is_public"], true);
    assert_eq!(image["checksum"].as_str().unwrap().len(), 32);
}

#[tokio::test]
async fn verbose_add_dumps_the_returned_metadata_and_the_time() {
    let s = server().await;
    let run = glance(
        &s,
        &["--verbose", "add", "name=My Image", "is_public=true"],
        Some(b"abc"),
    )
    .await;
    let id = added_id(&run);
    assert!(
        run.out
            .contains("Returned the following metadata for the new image:\n"),
        "{}",
        run.out
    );
    for line in [
        format!("                             id => {id}"),
        "                      is_public => True".to_string(),
        "                           name => My Image".to_string(),
        "                           size => 3".to_string(),
        "                         status => active".to_string(),
        "               container_format => ovf".to_string(),
        "                     properties => {}".to_string(),
    ] {
        assert!(
            run.out.lines().any(|l| l == line),
            "missing {line:?} in\n{}",
            run.out
        );
    }
    let last = run.out.lines().last().unwrap();
    assert!(
        last.starts_with("Completed in ") && last.ends_with(" sec."),
        "{last}"
    );
}

#[tokio::test]
async fn dry_run_add_prints_what_it_would_do_and_adds_nothing() {
    let s = server().await;
    let run = glance(
        &s,
        &[
            "--dry-run",
            "add",
            "name=Foo",
            "distro=Ubuntu",
            "is_public=True",
            "size=5",
        ],
        Some(b"data"),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(
        run.out,
        "Found non-settable field size. Removing.\nDry run. We would have done the following:\nAdd new image with metadata:\n\
         \x20              container_format => ovf\n\
         \x20                   disk_format => raw\n\
         \x20                     is_public => True\n\
         \x20                      min_disk => 0\n\
         \x20                       min_ram => 0\n\
         \x20                          name => Foo\n\
         \x20                    properties => {'distro': 'Ubuntu'}\n"
    );
    assert_eq!(
        v1_json(&s, "/v1/images/detail?is_public=none").await["images"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn index_and_details_list_public_images_page_by_page() {
    let s = server().await;
    let mut ids = Vec::new();
    for name in ["Ubuntu 10.10", "Fedora 9"] {
        let run = glance(
            &s,
            &[
                "add",
                &format!("name={name}"),
                "is_public=true",
                "disk_format=vhd",
            ],
            Some(b"12345"),
        )
        .await;
        ids.push(added_id(&run));
    }
    let private = glance(&s, &["add", "name=hidden"], Some(b"x")).await;
    added_id(&private);
    let index = glance(
        &s,
        &["index", "--sort_key", "name", "--sort_dir", "asc"],
        None,
    )
    .await;
    assert_eq!(index.code, 0, "{}", index.err);
    let lines: Vec<&str> = index.out.lines().collect();
    assert_eq!(lines.len(), 4, "{}", index.out);
    assert!(lines[0].starts_with("ID ") && lines[0].contains("Container Format     Size"));
    assert!(lines[1].starts_with(&"-".repeat(36)));
    assert!(
        lines[2].starts_with(&format!("{:<36} Fedora 9", ids[1])),
        "{}",
        lines[2]
    );
    assert!(lines[2].ends_with(" vhd                  ovf                               5"));
    // One image per page; answering "n" stops after the first.
    let paged = glance(
        &s,
        &[
            "index",
            "--limit",
            "1",
            "--sort_key",
            "name",
            "--sort_dir",
            "asc",
        ],
        Some(b"n\n"),
    )
    .await;
    assert_eq!(
        paged.out.lines().count(),
        4,
        "header, one row, the prompt: {}",
        paged.out
    );
    assert!(
        paged.out.ends_with("Fetch next page? [Y/n] "),
        "{}",
        paged.out
    );
    let forced = glance(&s, &["index", "--limit", "1", "-f"], None).await;
    assert_eq!(forced.out.lines().count(), 4, "{}", forced.out);
    let filtered = glance(&s, &["details", "name=Fedora 9"], None).await;
    let rule = "=".repeat(80);
    assert!(
        filtered.out.starts_with(&format!(
            "{rule}\nURI: http://127.0.0.1/images/{}\n",
            ids[1]
        )),
        "{}",
        filtered.out
    );
    assert!(
        filtered
            .out
            .ends_with(&format!("Minimum Disk Required (GB): 0\n{rule}\n")),
        "{}",
        filtered.out
    );
    let bad = glance(&s, &["index", "--sort_key", "owner"], None).await;
    assert_eq!(bad.code, 1);
    assert!(
        bad.out
            .starts_with("Failed to show index. Got error:\nUnsupported sort_key."),
        "{}",
        bad.out
    );
}

#[tokio::test]
async fn update_replaces_properties_and_delete_asks_first() {
    let s = server().await;
    let id = added_id(&glance(&s, &["add", "name=My Image", "a=1", "b=2"], Some(b"xyz")).await);
    let run = glance(
        &s,
        &["update", &id, "is_public=true", "b=3", "status=active"],
        None,
    )
    .await;
    assert_eq!(
        run.out,
        format!("Found non-modifiable field status. Removing.\nUpdated image {id}\n")
    );
    let image = &v1_json(&s, "/v1/images/detail").await["images"][0];
    assert_eq!(image["is_public"], true);
    assert_eq!(
        image["properties"],
        serde_json::json!({"b": "3"}),
        "unnamed properties are deleted"
    );
    let verbose = glance(&s, &["-v", "update", &id, "name=renamed"], None).await;
    assert!(
        verbose
            .out
            .contains(&format!("Updated image metadata for image {id}:\nURI: ")),
        "{}",
        verbose.out
    );
    assert!(verbose.out.contains("Name: renamed\n"));
    let missing = glance(
        &s,
        &["update", "00000000-0000-0000-0000-000000000000", "name=x"],
        None,
    )
    .await;
    assert_eq!(
        (missing.code, missing.out.as_str()),
        (
            1,
            "No image with ID 00000000-0000-0000-0000-000000000000 was found\n"
        )
    );

    let declined = glance(&s, &["delete", &id], Some(b"n\n")).await;
    assert_eq!(
        (declined.code, declined.out.clone()),
        (
            1,
            format!("Delete image {id}? [y/N] Not deleting image {id}\n")
        )
    );
    let dry = glance(&s, &["--dry-run", "delete", &id], None).await;
    assert_eq!(dry.code, 0);
    assert_eq!(
        v1_json(&s, "/v1/images/detail").await["images"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "still there"
    );
    let deleted = glance(&s, &["delete", &id], Some(b"y\n")).await;
    assert_eq!(
        (deleted.code, deleted.out.clone()),
        (0, format!("Delete image {id}? [y/N] Deleted image {id}\n"))
    );
    let again = glance(&s, &["show", &id], None).await;
    assert_eq!(
        (again.code, again.out.clone()),
        (1, format!("No image with ID {id} was found\n"))
    );
}

#[tokio::test]
async fn clear_deletes_every_image_and_reports_each_when_verbose() {
    let s = server().await;
    let mut ids = Vec::new();
    for name in ["one", "two", "three"] {
        ids.push(added_id(
            &glance(
                &s,
                &["add", &format!("name={name}"), "is_public=true"],
                Some(b"d"),
            )
            .await,
        ));
    }
    let run = glance(&s, &["--verbose", "-f", "clear"], None).await;
    assert_eq!(run.code, 0, "{}", run.err);
    for (id, name) in ids.iter().zip(["one", "two", "three"]) {
        assert!(
            run.out
                .contains(&format!("Deleting image {id} \"{name}\" ... done\n")),
            "{}",
            run.out
        );
    }
    assert_eq!(
        v1_json(&s, "/v1/images/detail?is_public=none").await["images"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn members_are_granted_listed_replaced_and_revoked() {
    let s = server().await;
    let id = added_id(&glance(&s, &["add", "name=shared"], Some(b"d")).await);
    assert_eq!(
        glance(&s, &["member-add", "--can-share", &id, "tenant1"], None)
            .await
            .code,
        0
    );
    assert_eq!(
        glance(&s, &["member-add", &id, "tenant2"], None).await.code,
        0
    );
    let members = glance(&s, &["image-members", &id], None).await;
    assert_eq!(members.out, "tenant1 *\ntenant2\n\n(*: Can share image)\n");
    let images = glance(&s, &["member-images", "tenant2"], None).await;
    assert_eq!(images.out, format!("{id}\n"));
    assert_eq!(
        glance(&s, &["members-replace", &id, "tenant3"], None)
            .await
            .code,
        0
    );
    assert_eq!(
        glance(&s, &["image-members", &id], None).await.out,
        "tenant3\n"
    );
    assert_eq!(
        glance(&s, &["member-delete", &id, "tenant3"], None)
            .await
            .code,
        0
    );
    assert_eq!(glance(&s, &["image-members", &id], None).await.out, "");
    let dry = glance(
        &s,
        &["--dry-run", "--can-share", "member-add", &id, "tenant9"],
        None,
    )
    .await;
    assert_eq!(
        dry.out,
        format!("Dry run. We would have done the following:\nAdd \"tenant9\" to membership of image {id}\nNew member would have been able to further share image.\n")
    );
    assert_eq!(
        glance(&s, &["image-members", &id], None).await.out,
        "",
        "dry run added nothing"
    );
    let missing = glance(
        &s,
        &["image-members", "00000000-0000-0000-0000-000000000000"],
        None,
    )
    .await;
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .out
            .starts_with("Failed to show image members. Got error:\n"),
        "{}",
        missing.out
    );
}

#[tokio::test]
async fn help_version_and_bad_invocations() {
    let s = server().await;
    let version = glance(&s, &["--version"], None).await;
    assert_eq!((version.code, version.out.as_str()), (0, "glance 2011.3\n"));
    let help = glance(&s, &["help", "delete"], None).await;
    assert_eq!(
        help.out,
        "\nglance delete [options] <ID>\n\nDeletes an image from Glance\n\n"
    );
    let unknown = glance(&s, &["frobnicate"], None).await;
    assert_eq!(
        (unknown.code, unknown.err.as_str()),
        (1, "Unknown command: frobnicate\n")
    );
    assert!(unknown
        .out
        .starts_with("Usage: glance <command> [options] [args]"));
    let bad = glance(&s, &["index", "--bogus"], None).await;
    assert_eq!(bad.code, 2);
    assert!(
        bad.err
            .ends_with("glance: error: no such option: --bogus\n"),
        "{}",
        bad.err
    );
    let no_name = glance(&s, &["add", "is_public=true"], Some(b"x")).await;
    assert_eq!(
        (no_name.code, no_name.out.as_str()),
        (1, "Please specify a name for the image using name=VALUE\n")
    );
    let both = glance(
        &s,
        &["add", "name=x", "location=http://example.com/x.img"],
        Some(b"x"),
    )
    .await;
    assert_eq!(
        both.out,
        "Either supply a location=LOCATION argument or supply image \ndata via a redirect. You have supplied BOTH image data \nAND a location.\n"
    );
    let down = glance(
        &Server {
            port: 1,
            _dir: tempfile::tempdir().unwrap(),
            _task: tokio::spawn(async {}),
        },
        &["add", "name=x"],
        Some(b"x"),
    )
    .await;
    assert_eq!(
        (down.code, down.out.as_str()),
        (
            1,
            "Failed to connect to the Glance API server 127.0.0.1:1. Is the server running?\n"
        )
    );
}
