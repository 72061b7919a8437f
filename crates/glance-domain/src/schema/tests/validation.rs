//! Request validation against the schemas.

use serde_json::{json, Map, Value};

use super::super::*;

fn schemas() -> Schemas {
    Schemas::build(&ImageSchemaConfig::default()).unwrap()
}

fn obj(value: Value) -> Map<String, Value> {
    value.as_object().expect("object").clone()
}

fn image_error(s: &Schemas, body: Value) -> String {
    match s.validate_image(&obj(body.clone())) {
        Ok(()) => panic!("{body} should be rejected"),
        Err(e) => e.0,
    }
}

/// First line of the message, without the common prefix.
fn reason(message: &str, schema: &str) -> String {
    let prefix = format!("Provided object does not match schema '{schema}': ");
    let text = message
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("prefix in {message}"));
    text.lines().next().unwrap_or_default().to_string()
}

#[test]
fn accepts_valid_image_bodies() {
    let s = schemas();
    let bodies = [
        json!({}),
        json!({"id": "6d3b2f5e-1c2a-4b7e-9f10-2a3b4c5d6e7f", "name": "cirros", "visibility": "public",
               "protected": false, "os_hidden": true, "min_ram": 0, "min_disk": 20, "disk_format": "qcow2",
               "container_format": "bare", "owner": "p1", "tags": ["a", "b"], "hw_disk_bus": "virtio",
               "kernel_id": null, "description": "x"}),
        json!({"name": null, "owner": null, "disk_format": null, "container_format": null}),
        // PATCH-style single members.
        json!({"min_ram": 1.0}),
        json!({"min_ram": -1}),
        json!({"name": "é".repeat(255)}),
        json!({"tags": []}),
        // Read-only members are the core's business, not the validator's.
        json!({"status": "active", "size": 5, "checksum": null, "self": "/v2/images/x"}),
        // Python's `$` also matches before a final newline.
        json!({"id": "6d3b2f5e-1c2a-4b7e-9f10-2a3b4c5d6e7f\n"}),
        json!({"locations": [{"url": "http://x", "metadata": {},
               "validation_data": {"os_hash_algo": "sha512", "os_hash_value": "ab"}}]}),
    ];
    for body in bodies {
        assert_eq!(s.validate_image(&obj(body.clone())), Ok(()), "{body}");
    }
}

#[test]
fn full_message_for_an_enum_violation() {
    let s = schemas();
    let expected = "Provided object does not match schema 'image': 'bogus' is not one of [None, 'ami', 'ari', \
'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop']

Failed validating 'enum' in schema['properties']['disk_format']:
    {'type': ['null', 'string'],
     'description': 'Disk format of the image data',
     'enum': [None,
              'ami',
              'ari',
              'aki',
              'vhd',
              'vhdx',
              'vmdk',
              'raw',
              'qcow2',
              'vdi',
              'iso',
              'ploop']}

On instance['disk_format']:
    'bogus'";
    assert_eq!(image_error(&s, json!({"disk_format": "bogus"})), expected);
}

#[test]
fn full_messages_for_items_and_extra_properties() {
    let s = schemas();
    let long = "b".repeat(256);
    let expected = format!(
        "Provided object does not match schema 'image': '{long}' is too long\n\n\
         Failed validating 'maxLength' in schema['properties']['tags']['items']:\n    \
         {{'type': 'string', 'maxLength': 255}}\n\nOn instance['tags'][1]:\n    '{long}'"
    );
    assert_eq!(image_error(&s, json!({"tags": ["ok", long]})), expected);
    let expected = "Provided object does not match schema 'image': 5 is not of type 'string'\n\n\
                    Failed validating 'type' in schema['additionalProperties']:\n    {'type': 'string'}\n\n\
                    On instance['hw_disk_bus']:\n    5";
    assert_eq!(image_error(&s, json!({"hw_disk_bus": 5})), expected);
}

#[test]
fn rejects_each_kind_of_image_violation() {
    let s = schemas();
    let cases = [
        (json!({"container_format": 5}), "5 is not of type 'null', 'string'"),
        (json!({"visibility": "everyone"}), "'everyone' is not one of ['community', 'public', 'private', 'shared']"),
        (json!({"protected": "yes"}), "'yes' is not of type 'boolean'"),
        (json!({"os_hidden": 1}), "1 is not of type 'boolean'"),
        (json!({"min_ram": "5"}), "'5' is not of type 'integer'"),
        (json!({"min_disk": 1.5}), "1.5 is not of type 'integer'"),
        (json!({"min_ram": true}), "True is not of type 'integer'"),
        (json!({"id": "not-a-uuid"}), "'not-a-uuid' does not match '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$'"),
        (json!({"name": "é".repeat(256)}), &format!("'{}' is too long", "é".repeat(256))),
        (json!({"owner": ["p"]}), "['p'] is not of type 'null', 'string'"),
        (json!({"tags": "a"}), "'a' is not of type 'array'"),
        (json!({"tags": [1, "x", 2]}), "2 is not of type 'string'"),
        (json!({"hw_disk_bus": null}), "None is not of type 'string'"),
        (json!({"hw_x": {"a": [1, {"b": null}]}}), "{'a': [1, {'b': None}]} is not of type 'string'"),
        (json!({"kernel_id": "abc"}), "'abc' does not match '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$'"),
        (json!({"cinder_encryption_key_deletion_policy": "never"}), "'never' is not one of ['on_image_deletion', 'do_not_delete']"),
        (json!({"locations": [{"url": "http://x"}]}), "'metadata' is a required property"),
        (json!({"locations": [{"url": "u", "metadata": {}, "validation_data": {"checksum": "abc",
            "os_hash_algo": "a", "os_hash_value": "b"}}]}), "'abc' is too short"),
        (json!({"locations": [{"url": "u", "metadata": {}, "validation_data": {"os_hash_algo": "a",
            "os_hash_value": "b", "bogus": 1}}]}), "Additional properties are not allowed ('bogus' was unexpected)"),
        (json!({"x": 1e20}), "1e+20 is not of type 'string'"),
        (json!({"s": 0.5}), "0.5 is not of type 'string'"),
        (json!({"s": ["it's"]}), "[\"it's\"] is not of type 'string'"),
    ];
    for (body, want) in cases {
        assert_eq!(
            reason(&image_error(&s, body.clone()), "image"),
            want,
            "{body}"
        );
    }
}

#[test]
fn the_most_relevant_failure_is_reported() {
    let s = schemas();
    // Same depth: the greatest instance path wins, as with upstream's library.
    let message = image_error(
        &s,
        json!({"visibility": "everyone", "disk_format": "bogus", "name": 5}),
    );
    assert_eq!(
        reason(&message, "image"),
        "'everyone' is not one of ['community', 'public', 'private', 'shared']"
    );
    // A type failure beats an enum failure on the same member.
    let message = image_error(&s, json!({"disk_format": 5}));
    assert_eq!(
        reason(&message, "image"),
        "5 is not of type 'null', 'string'"
    );
    // Shallower failures win over deeper ones.
    let s = Schemas::build(&ImageSchemaConfig {
        extra_properties: Some(
            json!({"properties": {"os_distro": {"type": "string"}}, "required": ["os_distro"]}),
        ),
        ..Default::default()
    })
    .unwrap();
    let message = image_error(&s, json!({"tags": [5]}));
    assert_eq!(
        reason(&message, "image"),
        "'os_distro' is a required property"
    );
    assert!(
        message.contains("\n\nFailed validating 'required' in schema:\n    {'name': 'image',"),
        "{message}"
    );
    assert!(
        message.ends_with("\n\nOn instance:\n    {'tags': [5]}"),
        "{message}"
    );
    assert_eq!(
        s.validate_image(&obj(json!({"os_distro": "ubuntu"}))),
        Ok(())
    );
}

#[test]
fn location_bodies() {
    let s = schemas();
    assert_eq!(s.validate_location(&json!({"url": "http://x"})), Ok(()));
    assert_eq!(
        s.validate_location(&json!({"url": "x", "validation_data": {"os_hash_algo": "sha512", "os_hash_value": "ab"}})),
        Ok(())
    );
    let cases = [
        (
            json!({"do_secure_hash": true}),
            "'url' is a required property",
        ),
        (
            json!({"url": "x", "validation_data": {"os_hash_algo": "sha123", "os_hash_value": "ab"}}),
            "'sha123' is not one of ['sha1', 'sha256', 'sha512', 'md5']",
        ),
        (
            json!({"url": "x", "validation_data": {"os_hash_algo": "sha512"}}),
            "'os_hash_value' is a dependency of 'os_hash_algo'",
        ),
        (
            json!({"url": "x", "validation_data": {"os_hash_value": "ab"}}),
            "'os_hash_algo' is a dependency of 'os_hash_value'",
        ),
        (
            json!({"url": "x", "validation_data": {"bogus_value": "test"}}),
            "Additional properties are not allowed ('bogus_value' was unexpected)",
        ),
    ];
    for (body, want) in cases {
        let err = s.validate_location(&body).unwrap_err();
        assert_eq!(reason(&err.0, "location"), want, "{body}");
    }
}

#[test]
fn task_bodies() {
    let s = schemas();
    assert_eq!(
        s.validate_task(&json!({"type": "import", "input": {"import_from": "http://x"}})),
        Ok(())
    );
    let cases = [
        (
            json!({"type": "bogus", "input": {}}),
            "'bogus' is not one of ['import', 'api_image_import', 'location_import']",
        ),
        (
            json!({"type": "import", "input": "x"}),
            "'x' is not of type 'null', 'object'",
        ),
        (
            json!({"type": "import", "input": {}, "extra": 1, "another": 2}),
            "Additional properties are not allowed ('another', 'extra' were unexpected)",
        ),
    ];
    for (body, want) in cases {
        let err = s.validate_task(&body).unwrap_err();
        assert_eq!(reason(&err.0, "task"), want, "{body}");
    }
    let err = s
        .validate_task(&json!({"type": "import", "extra": 1}))
        .unwrap_err();
    assert!(err.0.contains(
        "\n\nFailed validating 'additionalProperties' in schema:\n    {'name': 'task',\n"
    ));
    assert!(err.0.ends_with(
        "\n     'additionalProperties': False}\n\nOn instance:\n    {'type': 'import', 'extra': 1}"
    ));
}

#[test]
fn metadef_bodies() {
    let s = schemas();
    let ok = [
        (
            MetadefBody::Namespace,
            json!({"namespace": "OS::Test", "visibility": "public", "protected": true,
            "properties": {"p": {"title": "P", "type": "string", "minLength": 0}},
            "objects": [{"name": "o", "required": ["a"]}], "tags": [{"name": "t"}],
            "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}]}),
        ),
        (
            MetadefBody::Object,
            json!({"name": "o", "properties": {"a": {"type": "integer", "title": "A"}}}),
        ),
        (
            MetadefBody::Property,
            json!({"name": "p", "title": "P", "type": "array",
            "items": {"type": "string", "enum": ["a"]}, "maxItems": 2}),
        ),
        (
            MetadefBody::ObjectProperty,
            json!({"title": "P", "type": "boolean", "default": true}),
        ),
        (
            MetadefBody::ResourceTypeAssociation,
            json!({"name": "OS::Nova::Server", "prefix": "x:"}),
        ),
        (MetadefBody::Tag, json!({"name": "t"})),
        (
            MetadefBody::TagList,
            json!({"tags": [{"name": "a"}, {"name": "b"}]}),
        ),
    ];
    for (kind, body) in ok {
        assert_eq!(s.validate_metadef(kind, &body), Ok(()), "{kind:?} {body}");
    }
    let bad = [
        (MetadefBody::Namespace, "namespace", json!({"display_name": "x"}), "'namespace' is a required property"),
        (MetadefBody::Namespace, "namespace", json!({"namespace": "x", "visibility": "shared"}),
         "'shared' is not one of ['public', 'private']"),
        (MetadefBody::Namespace, "namespace", json!({"namespace": "x", "bogus": 1}),
         "Additional properties are not allowed ('bogus' was unexpected)"),
        (MetadefBody::Namespace, "namespace", json!({"namespace": "x".repeat(81)}),
         &format!("'{}' is too long", "x".repeat(81))),
        (MetadefBody::Namespace, "namespace", json!({"namespace": "x", "properties": {"p": {"title": "P",
            "type": "string", "minLength": -1}}}), "-1 is less than the minimum of 0"),
        (MetadefBody::Namespace, "namespace", json!({"namespace": "x", "properties": {"p": {"title": "P"}}}),
         "'type' is a required property"),
        (MetadefBody::Namespace, "namespace", json!({"namespace": "x", "objects": [{"name": "o",
            "required": ["a", "a"]}]}), "['a', 'a'] has non-unique elements"),
        (MetadefBody::Property, "property", json!({"name": "p", "title": "P", "type": "foo"}),
         "'foo' is not one of ['array', 'boolean', 'integer', 'number', 'object', 'string', None]"),
        (MetadefBody::Property, "property", json!({"title": "P", "type": "string"}), "'name' is a required property"),
        (MetadefBody::Property, "property", json!({"name": "p", "title": "P", "type": "string", "required": []}),
         "[] should be non-empty"),
        (MetadefBody::ObjectProperty, "property", json!({"title": "P", "type": "string", "minimum": "x"}),
         "'x' is not of type 'number'"),
        (MetadefBody::Object, "object", json!({"name": "o", "properties": {"a": {"type": "string"}}}),
         "'title' is a required property"),
        (MetadefBody::ResourceTypeAssociation, "resource_type_association", json!({"prefix": "x"}),
         "'name' is a required property"),
        (MetadefBody::Tag, "tag", json!({"name": 5}), "5 is not of type 'string'"),
        (MetadefBody::TagList, "tags", json!({"tags": [{"name": "a"}, {"bogus": "b"}]}), "'name' is a required property"),
    ];
    for (kind, name, body, want) in bad {
        let err = s.validate_metadef(kind, &body).unwrap_err();
        assert_eq!(reason(&err.0, name), want, "{kind:?} {body}");
    }
    // `$ref` is followed without adding to the schema path; `allOf` adds its index.
    let err = s
        .validate_metadef(
            MetadefBody::Property,
            &json!({"name": "p", "title": "P", "type": "string", "minLength": -1}),
        )
        .unwrap_err();
    assert!(
        err.0.contains(
            "Failed validating 'minimum' in schema['properties']['minLength']['allOf'][0]:\n    \
         {'type': 'integer', 'minimum': 0}\n\nOn instance['minLength']:\n    -1"
        ),
        "{}",
        err.0
    );
}

#[test]
fn validator_can_be_used_on_its_own() {
    let v = Validator::new(
        json!({"name": "thing", "properties": {"n": {"type": "integer", "maximum": 3}},
        "additionalProperties": false}),
    )
    .unwrap();
    assert_eq!(v.validate(&json!({"n": 3})), Ok(()));
    let err = v.validate(&json!({"n": 4})).unwrap_err();
    assert_eq!(
        reason(&err.0, "thing"),
        "4 is greater than the maximum of 3"
    );
    assert!(Validator::new(json!({"properties": {"a": {"pattern": "(["}}})).is_err());
}

#[test]
fn false_subschemas_and_closed_arrays() {
    let v = Validator::new(json!({"name": "t", "properties": {"x": false, "l": {"items": false}}}))
        .unwrap();
    let err = v.validate(&json!({"x": 1})).unwrap_err();
    assert_eq!(
        err.0,
        "Provided object does not match schema 't': False schema does not allow 1\n\n\
         Failed validating None in schema:\n    False\n\nOn instance:\n    1"
    );
    let err = v.validate(&json!({"l": [1, 2]})).unwrap_err();
    assert_eq!(
        reason(&err.0, "t"),
        "Expected at most 0 items but found 2 extra: [1, 2]"
    );
}
