//! What a command prints, and the `-f/--format` it is printed in: `table` (the
//! default, python-glanceclient's PrettyTable output byte for byte), `json`, `yaml`
//! or `value` (openstackclient's formats: the same fields, as data).

use serde_json::{Map, Value};

use super::table::{dict_table, list_cell, python_cell, python_str, rows_table};
use super::yaml::to_yaml;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Table,
    Json,
    Yaml,
    Value,
}

impl Format {
    /// The `-f` argument; the error is argparse's message for a bad choice.
    pub fn parse(name: Option<&str>) -> Result<Format, String> {
        Ok(match name {
            None | Some("table") => Format::Table,
            Some("json") => Format::Json,
            Some("yaml") => Format::Yaml,
            Some("value") => Format::Value,
            Some(other) => {
                return Err(format!(
                    "argument -f/--format: invalid choice: '{other}' \
                     (choose from 'json', 'table', 'value', 'yaml')"
                ))
            }
        })
    }
}

/// How glanceclient turns a list's cells into text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cells {
    /// `print_list`: falsy values are empty cells.
    Blank,
    /// `print_dict_list`: Python's `str()` of every value, `None` included.
    PythonStr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Nothing,
    /// One object (`print_dict`): its fields, in the table sorted by name and wrapped
    /// at `max_width`. `table_values` replace fields' values in the table only, where
    /// glanceclient shows text rather than the data (`virtual_size: Not available`).
    Record {
        fields: Vec<(String, Value)>,
        table_values: Vec<(String, Value)>,
        max_width: usize,
    },
    /// Several objects (`print_list`): the columns' headers and each row's values.
    Rows {
        headers: Vec<String>,
        rows: Vec<Vec<Value>>,
        cells: Cells,
    },
}

impl Output {
    /// A record of every field of a JSON object, shown as is.
    pub fn object(object: &Value) -> Output {
        let fields = object
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Output::Record {
            fields,
            table_values: Vec::new(),
            max_width: 80,
        }
    }

    /// Rows of the `keys` of each object under `headers` (`print_list`).
    pub fn rows(headers: &[&str], keys: &[&str], objects: &[Value], cells: Cells) -> Output {
        let rows = objects
            .iter()
            .map(|o| {
                keys.iter()
                    .map(|k| match o.get(*k) {
                        Some(v) => v.clone(),
                        // print_dict_list's `o.get(field, '')`.
                        None if cells == Cells::PythonStr => Value::String(String::new()),
                        None => Value::Null,
                    })
                    .collect()
            })
            .collect();
        Output::Rows {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows,
            cells,
        }
    }

    pub fn render(&self, format: Format) -> String {
        match (self, format) {
            (Output::Nothing, _) => String::new(),
            (
                Output::Record {
                    fields,
                    table_values,
                    max_width,
                },
                Format::Table,
            ) => {
                let shown: Vec<(String, Value)> = fields
                    .iter()
                    .map(|(k, v)| {
                        let replaced = table_values.iter().find(|(key, _)| key == k);
                        (k.clone(), replaced.map_or(v, |(_, r)| r).clone())
                    })
                    .collect();
                dict_table(&shown, *max_width)
            }
            (Output::Rows { headers, rows, .. }, Format::Table) => {
                rows_table(headers, &self.row_texts(rows))
            }
            (Output::Record { fields, .. }, Format::Value) => sorted(fields)
                .iter()
                .map(|(_, v)| python_cell(v) + "\n")
                .collect(),
            (Output::Rows { rows, .. }, Format::Value) => self
                .row_texts(rows)
                .iter()
                .map(|row| row.join(" ") + "\n")
                .collect(),
            (_, Format::Json) => {
                serde_json::to_string_pretty(&self.data()).expect("JSON values serialize") + "\n"
            }
            (_, Format::Yaml) => to_yaml(&self.data()),
        }
    }

    fn row_texts(&self, rows: &[Vec<Value>]) -> Vec<Vec<String>> {
        let cell = match self {
            Output::Rows {
                cells: Cells::PythonStr,
                ..
            } => python_str,
            _ => list_cell,
        };
        rows.iter()
            .map(|row| row.iter().map(cell).collect())
            .collect()
    }

    /// The output as data: an object of the record's fields (in the table's order),
    /// or a list of objects keyed by the columns' headers, as openstackclient does.
    fn data(&self) -> Value {
        match self {
            Output::Nothing => Value::Null,
            Output::Record { fields, .. } => Value::Object(sorted(fields).into_iter().collect()),
            Output::Rows { headers, rows, .. } => Value::Array(
                rows.iter()
                    .map(|row| {
                        let object: Map<String, Value> =
                            headers.iter().cloned().zip(row.iter().cloned()).collect();
                        Value::Object(object)
                    })
                    .collect(),
            ),
        }
    }
}

fn sorted(fields: &[(String, Value)]) -> Vec<(String, Value)> {
    let mut fields = fields.to_vec();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image() -> Output {
        Output::Record {
            fields: vec![
                ("name".into(), json!("cirros")),
                ("virtual_size".into(), Value::Null),
                ("tags".into(), json!(["a", "b"])),
                ("min_ram".into(), json!(0)),
            ],
            table_values: vec![("virtual_size".into(), json!("Not available"))],
            max_width: 80,
        }
    }

    #[test]
    fn records_in_every_format() {
        let table = image().render(Format::Table);
        assert!(table.contains("| virtual_size | Not available"), "{table}");
        assert_eq!(
            image().render(Format::Json),
            "{\n  \"min_ram\": 0,\n  \"name\": \"cirros\",\n  \"tags\": [\n    \"a\",\n    \"b\"\n  ],\n  \"virtual_size\": null\n}\n"
        );
        assert_eq!(
            image().render(Format::Yaml),
            "min_ram: 0\nname: cirros\ntags:\n- a\n- b\nvirtual_size: null\n"
        );
        assert_eq!(
            image().render(Format::Value),
            "0\ncirros\n[\"a\", \"b\"]\nNone\n"
        );
    }

    #[test]
    fn rows_in_every_format() {
        let objects = [
            json!({"id": "1", "name": "one"}),
            json!({"id": "2", "name": null}),
        ];
        let rows = Output::rows(&["ID", "Name"], &["id", "name"], &objects, Cells::Blank);
        assert_eq!(rows.render(Format::Value), "1 one\n2 \n");
        assert_eq!(
            rows.render(Format::Json),
            "[\n  {\n    \"ID\": \"1\",\n    \"Name\": \"one\"\n  },\n  {\n    \"ID\": \"2\",\n    \"Name\": null\n  }\n]\n"
        );
        assert_eq!(
            rows.render(Format::Yaml),
            "- ID: '1'\n  Name: one\n- ID: '2'\n  Name: null\n"
        );
        assert!(rows.render(Format::Table).contains("| 2  |      |"));
        let empty = Output::rows(&["ID"], &["id"], &[], Cells::Blank);
        assert_eq!(empty.render(Format::Json), "[]\n");
        assert_eq!(empty.render(Format::Value), "");
        let tasks = Output::rows(
            &["Message", "Status"],
            &["message", "status"],
            &[json!({"message": null})],
            Cells::PythonStr,
        );
        assert_eq!(tasks.render(Format::Value), "None \n");
        assert_eq!(Output::Nothing.render(Format::Json), "");
    }

    #[test]
    fn unknown_formats_are_refused_as_argparse_does() {
        assert_eq!(Format::parse(None), Ok(Format::Table));
        assert_eq!(Format::parse(Some("yaml")), Ok(Format::Yaml));
        assert!(Format::parse(Some("csv"))
            .unwrap_err()
            .contains("invalid choice: 'csv'"));
    }
}
