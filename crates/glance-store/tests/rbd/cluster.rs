//! The Ceph cluster the rbd tests run against, seen through its own `rbd` CLI,
//! and small helpers shared by the tests.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use glance_store::behaviour::{self, Backend};
use glance_store::registry::{open_store, StoreEnv};
use glance_store::{Store, StoreCaller, StoreError, StoreInfo, StoreOptions, UploadTarget};

/// Clones are made in this pool, by client.admin, under this prefix.
pub const CLONE_POOL: &str = "rbd";
pub const CLONE_PREFIX: &str = "glance-test-clone-";

/// The tests share one pool and compare listings of it, so they run one at a time.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Clone)]
pub struct Cluster {
    pub conf: String,
    pub user: String,
    pub pool: String,
}

/// The cluster from the environment. Without it the test fails under CI and is
/// skipped with a note elsewhere.
pub fn cluster() -> Option<Cluster> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (
        var("GLANCE_TEST_RBD_CONF"),
        var("GLANCE_TEST_RBD_USER"),
        var("GLANCE_TEST_RBD_POOL"),
    ) {
        (Some(conf), Some(user), Some(pool)) => Some(Cluster { conf, user, pool }),
        _ if std::env::var_os("CI").is_some() => {
            panic!("GLANCE_TEST_RBD_CONF, GLANCE_TEST_RBD_USER and GLANCE_TEST_RBD_POOL must be set under CI")
        }
        _ => {
            eprintln!("note: GLANCE_TEST_RBD_* not set; skipping the rbd test");
            None
        }
    }
}

impl Cluster {
    /// Runs the `rbd` CLI as the store's user (`admin`: as client.admin).
    pub fn rbd(&self, admin: bool, args: &[&str]) -> String {
        let mut command = Command::new("rbd");
        command.args(["-c", &self.conf]);
        if !admin {
            command.args(["--id", &self.user]);
        }
        let out = command.args(args).output().expect("run rbd");
        assert!(
            out.status.success(),
            "rbd {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn rbd_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        serde_json::from_str(&self.rbd(false, &all)).expect("rbd json")
    }

    /// `rbd ls -l` opens every image it lists, and fails if one went away
    /// meanwhile (an upload being cleaned up): list again then.
    pub fn rbd_json_retrying(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        for _ in 0..10 {
            let out = Command::new("rbd")
                .args(["-c", &self.conf, "--id", &self.user])
                .args(&all)
                .output()
                .expect("run rbd");
            if out.status.success() {
                return serde_json::from_slice(&out.stdout).expect("rbd json");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.rbd_json(args)
    }

    /// Removes what an earlier, failed run of these tests left behind (their
    /// image ids share a prefix), so one failure does not fail every later run.
    pub fn purge_leftovers(&self) {
        let quiet = |admin: bool, args: &[&str]| {
            let mut command = Command::new("rbd");
            command.args(["-c", &self.conf]);
            if !admin {
                command.args(["--id", &self.user]);
            }
            command
                .args(args)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        };
        let clones = self.rbd(true, &["ls", CLONE_POOL]);
        for clone in clones.lines().filter(|n| n.starts_with(CLONE_PREFIX)) {
            quiet(
                true,
                &["rm", "--no-progress", &format!("{CLONE_POOL}/{clone}")],
            );
        }
        let test_prefix = behaviour::test_id(0);
        let test_prefix = test_prefix.trim_end_matches('0');
        for image in self.rbd(false, &["ls", &self.pool]).lines() {
            if image.starts_with(test_prefix) {
                let spec = self.spec(image);
                quiet(false, &["snap", "unprotect", &format!("{spec}@snap")]);
                quiet(false, &["snap", "purge", "--no-progress", &spec]);
                quiet(false, &["rm", "--no-progress", &spec]);
            }
        }
    }

    pub fn spec(&self, image: &str) -> String {
        format!("{}/{image}", self.pool)
    }

    /// Size of an image (or `image@snap`) as the cluster reports it.
    pub fn image_size(&self, image: &str) -> u64 {
        self.rbd_json(&["info", &self.spec(image)])["size"]
            .as_u64()
            .expect("size")
    }

    /// Bytes of `image@snap` that are allocated, from `rbd diff`.
    pub fn allocated(&self, image: &str) -> u64 {
        let extents = self.rbd_json(&["diff", &self.spec(&format!("{image}@snap"))]);
        extents
            .as_array()
            .expect("extents")
            .iter()
            .filter(|e| e["exists"] == "true")
            .map(|e| e["length"].as_u64().expect("length"))
            .sum()
    }

    pub fn fsid(&self) -> String {
        let conf = std::fs::read_to_string(&self.conf).expect("read ceph.conf");
        conf.lines()
            .find_map(|l| {
                let (key, value) = l.split_once('=')?;
                (key.trim() == "fsid").then(|| value.trim().to_string())
            })
            .expect("fsid in ceph.conf")
    }

    pub fn options(&self, extra: &[(&str, &str)]) -> StoreOptions {
        let mut options = StoreOptions::new("glance_store", Default::default())
            .with("rbd_store_ceph_conf", &self.conf)
            .with("rbd_store_user", &self.user)
            .with("rbd_store_pool", &self.pool);
        for (key, value) in extra {
            options = options.with(key, *value);
        }
        options
    }

    pub fn store(&self, extra: &[(&str, &str)]) -> Arc<dyn Store> {
        open(&self.options(extra)).expect("rbd store opens")
    }
}

pub fn open(options: &StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    let info = StoreInfo {
        id: "ceph".into(),
        store_type: "rbd".into(),
        ..StoreInfo::default()
    };
    open_store(info, options, &StoreEnv::default())
}

pub struct Ceph {
    pub cluster: Cluster,
    pub store: Arc<dyn Store>,
}

#[async_trait::async_trait]
impl Backend for Ceph {
    fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// One entry per image of the pool, with its snapshots (`image@snap`), and
    /// one per image in the pool's trash.
    async fn objects(&self) -> Vec<String> {
        let c = &self.cluster;
        let listing = c.rbd_json_retrying(&["ls", "-l", &c.pool]);
        let mut names: Vec<String> = Vec::new();
        for entry in listing.as_array().expect("listing") {
            let image = entry["image"].as_str().expect("image name");
            match entry["snapshot"].as_str() {
                Some(snap) => {
                    let owner = names
                        .iter_mut()
                        .find(|n| n.split('@').next() == Some(image));
                    owner
                        .expect("snapshot after its image")
                        .push_str(&format!("@{snap}"));
                }
                None => names.push(image.to_string()),
            }
        }
        let trash = c.rbd_json_retrying(&["trash", "ls", &c.pool]);
        names.extend(
            trash
                .as_array()
                .expect("trash")
                .iter()
                .map(|e| format!("trash:{}", e["name"].as_str().unwrap_or("?"))),
        );
        names.sort();
        names
    }
}

pub fn target<'a>(id: &'a str, size: Option<u64>, caller: &'a StoreCaller) -> UploadTarget<'a> {
    UploadTarget {
        image_id: id,
        expected_size: size,
        caller,
    }
}

pub async fn upload(store: &dyn Store, id: &str, size: Option<u64>, data: &[u8]) -> String {
    let caller = StoreCaller::service();
    let mut w = store
        .begin_upload(&target(id, size, &caller))
        .await
        .unwrap();
    for chunk in data.chunks(300 * 1024) {
        w.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    w.commit().await.unwrap()
}

/// Polls `check` for up to 10 s.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
