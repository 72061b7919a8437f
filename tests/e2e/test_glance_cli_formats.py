"""Our `glance` binary's `-f/--format json|yaml|value` output (openstackclient's formats; the
default table is python-glanceclient's, compared in test_glance_cli_parity.py), and the
options python-glanceclient takes several values for."""

from __future__ import annotations

import json

import yaml

from helpers import property_table

HIDDEN = ("self", "access", "file", "schema")


def _image(cli, cleanup, name, small_file, *extra):
    res = cli.ours(
        "image-create", "--name", name, "--disk-format", "raw", "--container-format", "bare",
        "--property", "os_distro=cirros", "--tags", "blue", "red", *extra, "--file", small_file.path,
    )
    image_id = property_table(res.stdout)["id"]
    cleanup.append(image_id)
    return image_id


def test_show_prints_the_image_as_json_yaml_and_values(cli, api, cleanup, name, small_file):
    image_id = _image(cli, cleanup, name, small_file)
    expected = {k: v for k, v in api.image(image_id).items() if k not in HIDDEN}

    as_json = json.loads(cli.ours("image-show", "-f", "json", image_id).stdout)
    assert as_json == expected
    assert list(as_json) == sorted(as_json), "fields in the table's order"

    as_yaml = yaml.safe_load(cli.ours("image-show", "--format", "yaml", image_id).stdout)
    assert as_yaml == expected

    values = cli.ours("image-show", "-f", "value", image_id).stdout.splitlines()
    assert len(values) == len(expected)
    assert values[sorted(expected).index("id")] == image_id
    assert values[sorted(expected).index("checksum")] == small_file.md5

    # The default stays the table.
    assert property_table(cli.ours("image-show", image_id).stdout)["id"] == image_id


def test_lists_print_rows_keyed_by_the_columns(cli, api, cleanup, name, small_file):
    image_id = _image(cli, cleanup, name, small_file)
    cli.ours("member-create", image_id, "tenant-a")
    cli.ours("member-create", image_id, "tenant-b")

    rows = json.loads(cli.ours("image-list", "-f", "json", "--property-filter", "os_distro=cirros").stdout)
    assert {"ID": image_id, "Name": name} in rows
    assert all(list(r) == ["ID", "Name"] for r in rows)
    lines = cli.ours("image-list", "-f", "value", "--property-filter", "os_distro=cirros").stdout.splitlines()
    assert f"{image_id} {name}" in lines

    members = yaml.safe_load(cli.ours("member-list", "-f", "yaml", "--image-id", image_id).stdout)
    assert members == [
        {"Image ID": image_id, "Member ID": m, "Status": "pending"} for m in ("tenant-a", "tenant-b")
    ]
    updated = json.loads(cli.ours("member-update", "-f", "json", image_id, "tenant-a", "accepted").stdout)
    assert updated == [{"Image ID": image_id, "Member ID": "tenant-a", "Status": "accepted"}]
    assert cli.ours("member-list", "-f", "value", "--image-id", image_id).stdout.splitlines() == [
        f"{image_id} tenant-a accepted", f"{image_id} tenant-b pending",
    ]


def test_create_update_and_discovery_in_every_format(cli, api, cleanup, name, small_file):
    created = json.loads(cli.ours(
        "image-create", "-f", "json", "--name", name, "--disk-format", "raw",
        "--container-format", "bare", "--min-ram", "64",
    ).stdout)
    cleanup.append(created["id"])
    assert created["name"] == name and created["min_ram"] == 64 and created["status"] == "queued"
    # null stays null in the data; only the table says "Not available".
    assert created["virtual_size"] is None

    updated = yaml.safe_load(cli.ours(
        "image-update", "-f", "yaml", "--property", "hw_disk_bus=virtio", "--name", name + "-2", created["id"],
    ).stdout)
    assert updated["name"] == name + "-2" and updated["hw_disk_bus"] == "virtio"

    info = json.loads(cli.ours("import-info", "-f", "json").stdout)
    assert info == api.get("/v2/info/import").json()
    stores = yaml.safe_load(cli.ours("stores-info", "-f", "yaml").stdout)
    assert stores == api.get("/v2/info/stores").json()

    tasks = json.loads(cli.ours("image-tasks", "-f", "json", created["id"]).stdout)
    assert tasks == []


def test_yaml_quotes_strings_that_would_read_back_as_other_types(cli, api, cleanup, name):
    created = json.loads(cli.ours(
        "image-create", "-f", "json", "--name", "0123", "--property", "flag=true",
        "--property", "when=2024-05-01", "--property", "note=a: b #c", "--property", "empty=",
        "--property", "quote='x'", "--property", "ver=1.10",
    ).stdout)
    cleanup.append(created["id"])
    shown = yaml.safe_load(cli.ours("image-show", "-f", "yaml", created["id"]).stdout)
    for key, value in {"name": "0123", "flag": "true", "when": "2024-05-01", "note": "a: b #c",
                       "empty": "", "quote": "'x'", "ver": "1.10"}.items():
        assert shown[key] == value, (key, shown[key])


def test_a_bad_format_is_a_usage_error(cli, api, cleanup, name):
    res = cli.ours("image-list", "-f", "csv", check=False)
    assert res.returncode == 2
    assert "invalid choice: 'csv'" in res.stderr, str(res)


def test_tags_take_several_values_as_python_glanceclient(cli, api, cleanup, name):
    args = ("--name", name, "--tags", "blue", "red", "green", "--property", "a=1", "--property", "b=2")
    ids = []
    for run in (cli.glance, cli.ours):
        ids.append(property_table(run("image-create", *args).stdout)["id"])
        cleanup.append(ids[-1])
    theirs, ours = (api.image(i) for i in ids)
    assert sorted(ours["tags"]) == sorted(theirs["tags"]) == ["blue", "green", "red"]
    assert (ours["a"], ours["b"]) == (theirs["a"], theirs["b"]) == ("1", "2")
