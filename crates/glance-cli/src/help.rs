//! The seeds' usage text and each command's help, as the Diablo `glance` prints them.

pub const VERSION: &str = "glance 2011.3";

pub const USAGE: &str = "Usage: glance <command> [options] [args]

Commands:

    help <command>  Output help for one of the commands below

    add             Adds a new image to Glance

    update          Updates an image's metadata in Glance

    delete          Deletes an image from Glance

    index           Return brief information about images in Glance

    details         Return detailed information about images in
                    Glance

    show            Show detailed information about an image in
                    Glance

    clear           Removes all images and metadata from Glance


Member Commands:

    image-members    List members an image is shared with

    member-images    List images shared with a member

    member-add       Grants a member access to an image

    member-delete    Revokes a member's access to an image

    members-replace  Replaces all membership for an image
";

pub const OPTIONS: &str = "Options:
  --version             show program's version number and exit
  -h, --help            show this help message and exit
  -v, --verbose         Print more verbose output
  -d, --debug           Print more verbose output
  -H ADDRESS, --host=ADDRESS
                        Address of Glance API host. Default: 0.0.0.0
  -p PORT, --port=PORT  Port the Glance API host listens on. Default: 9292
  -A TOKEN, --auth_token=TOKEN
                        Authentication token to use to identify the client to
                        the glance server
  --limit=LIMIT         Page size to use while requesting image metadata
  --marker=MARKER       Image index after which to begin pagination
  --sort_key=KEY        Sort results by this image attribute.
  --sort_dir=[desc|asc]
                        Sort results in this direction.
  -f, --force           Prevent select actions from requesting user
                        confirmation
  --dry-run             Don't actually execute the command, just print output
                        showing what WOULD happen.
  --can-share           Allow member to further share image.
";

const ADD: &str = r#"
glance add [options] <field1=value1 field2=value2 ...> [ < /path/to/image ]

Adds a new image to Glance. Specify metadata fields as arguments.

SPECIFYING IMAGE METADATA
===============================================================================

All field/value pairs are converted into a mapping that is passed
to Glance that represents the metadata for an image.

Field names of note:

id                  Optional. If not specified, an image identifier will be
                    automatically assigned.
name                Required. A name for the image.
size                Optional. Should be size in bytes of the image if
                    specified.
is_public           Optional. If specified, interpreted as a boolean value
                    and sets or unsets the image's availability to the public.
                    The default value is False.
disk_format         Optional. Possible values are 'vhd','vmdk','raw', 'qcow2',
                    and 'ami'. Default value is 'raw'.
container_format    Optional. Possible values are 'ovf' and 'ami'.
                    Default value is 'ovf'.
location            Optional. When specified, should be a readable location
                    in the form of a URI: $STORE://LOCATION. For example, if
                    the image data is stored in a file on the local
                    filesystem at /usr/share/images/some.image.tar.gz
                    you would specify:
                    location=file:///usr/share/images/some.image.tar.gz

Any other field names are considered to be custom properties so be careful
to spell field names correctly. :)

STREAMING IMAGE DATA
===============================================================================

If the location field is not specified, you can stream an image file on
the command line using standard redirection. For example:

glance add name="Ubuntu 10.04 LTS 5GB" < /tmp/images/myimage.tar.gz

EXAMPLES
===============================================================================

glance add name="My Image" disk_format=raw container_format=ovf \
    location=http://images.ubuntu.org/images/lucid-10.04-i686.iso \
    distro="Ubuntu 10.04 LTS"

glance add name="My Image" distro="Ubuntu 10.04 LTS" < /tmp/myimage.iso
"#;

const UPDATE: &str = "
glance update [options] <ID> <field1=value1 field2=value2 ...>

Updates an image's metadata in Glance. Specify metadata fields as arguments.

Metadata fields that are not specified in the update command will be deleted.

All field/value pairs are converted into a mapping that is passed
to Glance that represents the metadata for an image.

Field names that can be specified:

name                A name for the image.
location            The location of the image.
is_public           If specified, interpreted as a boolean value
                    and sets or unsets the image's availability to the public.
disk_format         Format of the disk image
container_format    Format of the container

All other field names are considered to be custom properties so be careful
to spell field names correctly. :)
";

const LISTING: &str = " [options] <field1=value1 field2=value2 ...>

Returns ";

const LISTING_TAIL: &str = " information for all public images
a Glance server knows about. Provided fields are
handled as query filters. Supported filters
include 'name', 'disk_format', 'container_format',
'status', 'size_min', and 'size_max.' Any extra
fields are treated as image metadata properties
";

/// `glance help <command>`; None for an unknown command.
pub fn command_help(command: &str) -> Option<String> {
    Some(match command {
        "add" => ADD.to_string(),
        "update" => UPDATE.to_string(),
        "delete" => "\nglance delete [options] <ID>\n\nDeletes an image from Glance\n".into(),
        "show" => "\nglance show [options] <ID>\n\nShows image metadata for an image in Glance\n".into(),
        "index" => format!("\nglance index{LISTING}basic{LISTING_TAIL}"),
        "details" => format!("\nglance details{LISTING}detailed{LISTING_TAIL}"),
        "clear" => "\nglance clear [options]\n\nDeletes all images from a Glance server\n".into(),
        "image-members" => {
            "\nglance image-members [options] <ID>\n\nDisplays a list of members with which an image is shared\n".into()
        }
        "member-images" => {
            "\nglance member-images [options] <MEMBER>\n\nDisplays a list of images shared with a given member\n".into()
        }
        "members-replace" => "\nglance members-replace [options] <ID> <MEMBER>\n\nReplaces the members of the image <ID> to be solely <MEMBER>.  If the\n\"--can-share\" option is given, <MEMBER> will be able to further share\nthe image.\n".into(),
        "member-add" => "\nglance member-add [options] <ID> <MEMBER>\n\nAdds the member <MEMBER> to the image <ID>.  If the \"--can-share\"\noption is given, <MEMBER> will be able to further share the image.\n".into(),
        "member-delete" => "\nglance member-delete [options] <ID> <MEMBER>\n\nDeletes the specified member of the image <ID>.\n".into(),
        "help" => "\n    Print help specific to a command\n    \n".into(),
        _ => return None,
    })
}
