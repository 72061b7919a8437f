//! The inspector against a corpus of real images made by `qemu-img`, `genisoimage`,
//! `sgdisk` and `sfdisk` (tests/corpus/make_corpus.py builds it at run time): every
//! benign sample is detected as qemu detects it, with qemu's virtual size, and
//! accepted; every malicious sample is refused with upstream's message; truncated
//! samples never pass as their format. Each file is fed in several chunkings, which
//! must not change any answer.

use std::path::{Path, PathBuf};
use std::process::Command;

use glance_format::{judge, DiskFormat, FormatPolicy, Inspection, Inspector};
use serde_json::Value;

struct Sample {
    file: PathBuf,
    name: String,
    kind: String,
    disk_format: String,
    detected: Vec<DiskFormat>,
    qemu: Option<(String, u64)>,
    refusal: Option<String>,
}

fn build_corpus(dir: &Path) -> Vec<Sample> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/make_corpus.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir)
        .output()
        .expect("python3 runs the corpus generator");
    assert!(
        out.status.success(),
        "the corpus generator failed (it needs qemu-img, genisoimage, sgdisk, sfdisk): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    manifest
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Sample {
            file: dir.join(e["file"].as_str().unwrap()),
            name: e["file"].as_str().unwrap().to_string(),
            kind: e["kind"].as_str().unwrap().to_string(),
            disk_format: e["disk_format"].as_str().unwrap().to_string(),
            detected: e["detected"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| DiskFormat::from_name(f.as_str().unwrap()).unwrap())
                .collect(),
            qemu: e["qemu"].as_object().map(|q| {
                (
                    q["format"].as_str().unwrap().to_string(),
                    q["virtual_size"].as_u64().unwrap(),
                )
            }),
            refusal: e["refusal"].as_str().map(str::to_string),
        })
        .collect()
}

/// Streams the file through an inspector in `chunk`-byte pieces.
fn inspect_file(path: &Path, chunk: usize) -> Inspection {
    use std::io::Read;
    let mut file = std::fs::File::open(path).unwrap();
    let mut inspector = Inspector::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        inspector.feed(&buf[..n]);
    }
    inspector.finish()
}

/// Everything a caller can observe, to compare chunkings.
fn observable(i: &Inspection, disk_format: &str) -> String {
    let sizes: Vec<String> = DiskFormat::ALL
        .iter()
        .map(|f| format!("{f}={:?}/{:?}", i.virtual_size(*f), i.safety_check(*f)))
        .collect();
    format!(
        "{:?} {:?} {}",
        i.matches(),
        judge(i, disk_format, &FormatPolicy::default()),
        sizes.join(" ")
    )
}

#[test]
fn corpus_verdicts_match_qemu_and_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let samples = build_corpus(dir.path());
    assert!(samples.iter().filter(|s| s.kind == "benign").count() >= 15);
    let policy = FormatPolicy::default();
    let mut problems = Vec::new();
    for s in &samples {
        let inspection = inspect_file(&s.file, 64 * 1024);
        // Chunk boundaries must not matter (the uploads' chunks are whatever TCP gives).
        let reference = observable(&inspection, &s.disk_format);
        for chunk in [511, 4096, 1 << 20] {
            let other = observable(&inspect_file(&s.file, chunk), &s.disk_format);
            if other != reference {
                problems.push(format!(
                    "{}: chunks of {chunk} give {other}, 64 KiB give {reference}",
                    s.name
                ));
            }
        }
        // Truncated samples list nothing: what they are detected as does not matter.
        if s.kind != "truncated" && inspection.matches() != s.detected {
            problems.push(format!(
                "{}: detected {:?}, expected {:?}",
                s.name,
                inspection.matches(),
                s.detected
            ));
        }
        let verdict = judge(&inspection, &s.disk_format, &policy);
        match s.kind.as_str() {
            "benign" => {
                let (qemu_format, qemu_size) =
                    s.qemu.clone().expect("qemu-img opened every benign sample");
                if s.detected[0].qemu_name() != qemu_format {
                    problems.push(format!(
                        "{}: qemu says {qemu_format}, we say {}",
                        s.name, s.detected[0]
                    ));
                }
                match verdict {
                    Ok(accepted) if accepted.virtual_size == Some(qemu_size) => {}
                    other => problems.push(format!(
                        "{}: verdict {other:?}, qemu's virtual size {qemu_size}",
                        s.name
                    )),
                }
            }
            "refused" => {
                let expected = s.refusal.clone().unwrap_or_default();
                match verdict {
                    Err(refusal) if refusal.0.contains(&expected) => {}
                    other => problems.push(format!(
                        "{}: verdict {other:?}, expected a refusal with {expected:?}",
                        s.name
                    )),
                }
            }
            "truncated" => match verdict {
                Err(_) => {}
                Ok(accepted) if accepted.detected == DiskFormat::Raw => {}
                Ok(accepted) => problems.push(format!(
                    "{}: a cut-off header passed as {accepted:?}",
                    s.name
                )),
            },
            other => panic!("unknown sample kind {other}"),
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
