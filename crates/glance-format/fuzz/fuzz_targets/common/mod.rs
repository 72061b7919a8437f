//! What every fuzz target does with its stream: inspect it twice, once in chunks of the
//! size the input chose and once in one piece, and insist that every answer is the same
//! (chunk boundaries must never change one); then let `judge` decide on it.

use glance_format::{
    judge, Accepted, CheckError, DiskFormat, FormatPolicy, Inspection, Inspector, Refusal,
};

type Verdict = Result<Accepted, Refusal>;
/// A format, its virtual size and its safety check.
type FormatAnswers = (DiskFormat, Result<u64, String>, Result<(), CheckError>);

/// The disk_format values each inspection is judged as (`ami`: one nothing inspects).
const DISK_FORMATS: [&str; 5] = ["raw", "qcow2", "vmdk", "iso", "ami"];

/// The first `N` bytes of `input` (zero-padded when it is shorter) and the rest.
pub fn split_prefix<const N: usize>(input: &[u8]) -> ([u8; N], &[u8]) {
    let (head, rest) = input.split_at(input.len().min(N));
    let mut prefix = [0; N];
    prefix[..head.len()].copy_from_slice(head);
    (prefix, rest)
}

/// The chunk size (1..=4096) the first two bytes choose, and the rest of the input.
pub fn split_chunk_size(input: &[u8]) -> (usize, &[u8]) {
    let (prefix, rest) = split_prefix::<2>(input);
    (usize::from(u16::from_le_bytes(prefix)) % 4096 + 1, rest)
}

/// Everything a caller can observe about one inspection.
#[derive(Debug, PartialEq)]
struct Observed {
    total: u64,
    matches: Vec<DiskFormat>,
    /// Per inspected format.
    formats: Vec<FormatAnswers>,
    vmdk_create_type: Option<String>,
    /// Per disk_format: the verdict under the default policy and under a lenient one.
    verdicts: Vec<(&'static str, Verdict, Verdict)>,
}

fn observe(formats: &[DiskFormat], inspection: &Inspection) -> Observed {
    let strict = FormatPolicy::default();
    let lenient = FormatPolicy {
        require_image_format_match: false,
        gpt_safety_checks_nonfatal: vec!["mbr".into()],
        ..FormatPolicy::default()
    };
    Observed {
        total: inspection.total_bytes(),
        matches: inspection.matches(),
        formats: formats
            .iter()
            .map(|&f| (f, inspection.virtual_size(f), inspection.safety_check(f)))
            .collect(),
        vmdk_create_type: inspection.vmdk_create_type().map(str::to_string),
        verdicts: DISK_FORMATS
            .iter()
            .map(|&d| {
                (
                    d,
                    judge(inspection, d, &strict),
                    judge(inspection, d, &lenient),
                )
            })
            .collect(),
    }
}

/// Inspects `stream` with parsers for `formats` only, fed in `chunk`-byte pieces and in
/// one piece, and checks that the two agree on everything.
pub fn check(formats: &[DiskFormat], chunk: usize, stream: &[u8]) {
    let mut chunked = Inspector::with_formats(formats);
    for piece in stream.chunks(chunk) {
        chunked.feed(piece);
    }
    let mut whole = Inspector::with_formats(formats);
    whole.feed(stream);

    let chunked = observe(formats, &chunked.finish());
    let whole = observe(formats, &whole.finish());
    assert_eq!(
        chunked, whole,
        "feeding {chunk}-byte chunks changed the answer"
    );

    assert_eq!(whole.total, stream.len() as u64);
    assert!(!whole.matches.is_empty());
    // What the default policy accepts is safe and is what was declared (raw, or a
    // disk_format nothing inspects, may be anything not recognisably something else).
    for (disk_format, verdict, _) in &whole.verdicts {
        if let Ok(accepted) = verdict {
            let (format, _, safety) = whole
                .formats
                .iter()
                .find(|(f, _, _)| *f == accepted.detected)
                .expect("an accepted format was inspected");
            assert_eq!(
                safety,
                &Ok(()),
                "{disk_format}: accepted an unsafe {format}"
            );
            assert!(
                accepted.warnings.is_empty(),
                "{disk_format}: {:?}",
                accepted.warnings
            );
            assert!(accepted.virtual_size.is_none_or(|v| v <= i64::MAX as u64));
            assert!(
                format.name() == *disk_format
                    || *disk_format == "raw"
                    || DiskFormat::from_name(disk_format).is_none(),
                "{disk_format}: accepted as {format}"
            );
        }
    }
}
