"""Our `glance` binary's v2 commands print what python-glanceclient prints, run one after
the other against the same server and the same images."""

from __future__ import annotations

import re

from helpers import property_table


def same(cli, *args):
    theirs = cli.glance(*args)
    ours = cli.ours(*args)
    assert ours.stdout == theirs.stdout, f"ours:\n{ours.stdout}\npython-glanceclient:\n{theirs.stdout}"
    return ours.stdout


def masked(text: str, keys: tuple[str, ...]) -> str:
    """The table with the values of `keys` (which differ between two new images) blanked."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^\| (\S+)\s+\| ", line)
        if m and m.group(1) in keys:
            line = re.sub(r"\| (\S+)(\s+)\| .*\|$", lambda x: f"| {x.group(1)}{x.group(2)}| ... |", line)
        out.append(line)
    return "\n".join(out)


def test_show_list_and_members_match_python_glanceclient(cli, api, cleanup, name, small_file):
    res = cli.glance(
        "image-create", "--name", name, "--disk-format", "raw", "--container-format", "bare",
        "--visibility", "shared", "--property", "os_distro=cirros", "--file", small_file.path,
    )
    image_id = property_table(res.stdout)["id"]
    cleanup.append(image_id)
    cli.glance("image-tag-update", image_id, "blue")
    cli.glance("member-create", image_id, "tenant-a")

    shown = same(cli, "image-show", image_id)
    assert small_file.sha512[:40] in shown.replace("|", "").replace(" ", "").replace("\n", "")
    same(cli, "image-list", "--property-filter", "os_distro=cirros")
    same(cli, "member-list", "--image-id", image_id)


def test_create_and_update_print_the_same_tables(cli, api, cleanup, name, small_file):
    args = ("--name", name, "--disk-format", "raw", "--container-format", "bare",
            "--property", "a=1", "--min-ram", "64", "--protected", "False")
    theirs = cli.glance("image-create", *args, "--file", small_file.path)
    ours = cli.ours("image-create", *args, "--file", small_file.path)
    for res in (theirs, ours):
        cleanup.append(property_table(res.stdout)["id"])
    varying = ("id", "created_at", "updated_at")
    assert masked(ours.stdout, varying) == masked(theirs.stdout, varying), f"{ours.stdout}\n{theirs.stdout}"

    ids = [property_table(r.stdout)["id"] for r in (theirs, ours)]
    outputs = [
        run("image-update", "--name", name + "-2", "--property", "b=2", "--remove-property", "a", image_id).stdout
        for run, image_id in zip((cli.glance, cli.ours), ids)
    ]
    assert masked(outputs[1], varying) == masked(outputs[0], varying), "\n".join(outputs)
    for image_id in ids:
        img = api.image(image_id)
        assert img["name"] == name + "-2" and img["b"] == "2" and "a" not in img


def test_download_and_delete_work_like_python_glanceclient(cli, api, cleanup, name, small_file, tmp_path):
    res = cli.ours(
        "image-create", "--name", name, "--disk-format", "raw", "--container-format", "bare",
        "--file", small_file.path,
    )
    image_id = property_table(res.stdout)["id"]
    cleanup.append(image_id)
    out = tmp_path / "ours.raw"
    cli.ours("image-download", "--file", out, image_id)
    assert small_file.same_as(out)
    cli.ours("image-deactivate", image_id)
    assert api.image(image_id)["status"] == "deactivated"
    cli.ours("image-reactivate", image_id)
    missing = cli.ours("image-show", "00000000-0000-0000-0000-000000000000", check=False)
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr, str(missing)
    cli.ours("image-delete", image_id)
    assert api.image_status_code(image_id) == 404
