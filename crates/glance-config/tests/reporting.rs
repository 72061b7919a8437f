//! What the loader logs: unknown options at debug level, deprecated names
//! as warnings (as oslo.config).

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Records `(level, message)` of every event.
#[derive(Clone, Default)]
struct Recorder {
    events: Arc<Mutex<Vec<(Level, String)>>>,
}

struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut visitor = MessageVisitor(String::new());
        event.record(&mut visitor);
        self.events
            .lock()
            .unwrap()
            .push((*event.metadata().level(), visitor.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn events_of(text: &str) -> Vec<(Level, String)> {
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        glance_config::load_from_str(text).unwrap();
    });
    let events = recorder.events.lock().unwrap().clone();
    events
}

#[test]
fn unknown_options_are_reported_at_debug_level() {
    let events = events_of(
        "[DEFAULT]\nno_such_option = 1\nbind_port = 9000\n[keystone_authtoken]\nauth_url = http://k\nmemcached_servers = m:11211\n\
         [DEFAULT]\nenabled_backends = b:file\n[glance_store]\ndefault_backend = b\n[b]\nanything = 1\n",
    );
    let debug: Vec<&String> = events
        .iter()
        .filter(|(level, _)| *level == Level::DEBUG)
        .map(|(_, message)| message)
        .collect();
    assert!(
        debug
            .iter()
            .any(|m| m.contains("no_such_option") && m.contains("[DEFAULT]")),
        "{debug:?}"
    );
    assert!(
        debug
            .iter()
            .any(|m| m.contains("memcached_servers") && m.contains("[keystone_authtoken]")),
        "{debug:?}"
    );
    // Typed options and the options of backend sections are not "unknown".
    assert!(!debug.iter().any(|m| m.contains("bind_port")), "{debug:?}");
    assert!(!debug.iter().any(|m| m.contains("anything")), "{debug:?}");
}

#[test]
fn deprecated_names_are_warned_about() {
    let events = events_of("[DEFAULT]\nsql_connection = sqlite:///x\n");
    assert!(
        events.iter().any(|(level, message)| *level == Level::WARN
            && message.contains("\"sql_connection\" from group \"DEFAULT\" is deprecated")
            && message.contains("\"connection\" from group \"database\"")),
        "{events:?}"
    );
}
