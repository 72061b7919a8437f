//! glanceclient's `--progress` bar for uploads (`[=====>      ] 45%`, redrawn with a
//! carriage return on standard output), shown only when standard output is a
//! terminal and the size is known, as its `VerboseFileWrapper` does.

use std::io::{IsTerminal, Write};

use futures_util::StreamExt;
use glance_client::ImageData;

/// `data`, drawing the bar as its chunks are read.
pub fn with_progress(data: ImageData) -> ImageData {
    let Some(total) = data.size.filter(|s| *s > 0) else {
        return data;
    };
    if !std::io::stdout().is_terminal() {
        return data;
    }
    let stream = futures_util::stream::unfold(
        (data.stream, 0u64, false),
        move |(mut stream, mut read, finished)| async move {
            if finished {
                return None;
            }
            match stream.next().await {
                Some(Ok(chunk)) => {
                    let before = read;
                    read += chunk.len() as u64;
                    // Break to a new line for the output that follows once all is
                    // read: the HTTP client stops polling at the announced length,
                    // so the end of the stream may never be seen.
                    let crossed = before < total && read >= total;
                    draw(&(bar(read, total) + if crossed { "\n" } else { "" }));
                    Some((Ok(chunk), (stream, read, false)))
                }
                Some(Err(e)) => Some((Err(e), (stream, read, true))),
                None => {
                    if read < total {
                        draw("\n");
                    }
                    None
                }
            }
        },
    );
    ImageData {
        stream: Box::pin(stream),
        size: data.size,
    }
}

fn draw(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// One state of the bar: 29 columns of `=` at 100 %, then `>`, padded to 30.
fn bar(read: u64, total: u64) -> String {
    let fraction = read as f64 / total as f64;
    // Python's round() rounds halves to even.
    let filled = (fraction * 29.0).round_ties_even() as usize;
    format!(
        "\r[{:<30}] {:.0}%",
        "=".repeat(filled) + ">",
        fraction * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_as_glanceclient_draws_them() {
        assert_eq!(bar(0, 10), format!("\r[>{}] 0%", " ".repeat(29)));
        assert_eq!(
            bar(5, 10),
            format!("\r[{}>{}] 50%", "=".repeat(14), " ".repeat(15))
        );
        assert_eq!(bar(10, 10), format!("\r[{}>] 100%", "=".repeat(29)));
    }
}
