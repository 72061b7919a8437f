//! The task commands: task-list, task-show, task-create, and image-tasks (the
//! tasks of one image, API 2.12).

use glance_client::ClientError;
use serde_json::{json, Value};

use super::args::CommandArgs;
use super::output::{Cells, Output};
use super::{positional, Failure, Session};

const SORT_KEYS: &[&str] = &["id", "type", "status"];
const SORT_DIRS: &[&str] = &["asc", "desc"];

/// Runs `command` if it is a task command.
pub(super) async fn execute(
    session: &Session,
    command: &str,
    args: &CommandArgs,
) -> Result<Option<Output>, Failure> {
    let client = &session.client;
    Ok(Some(match command {
        "task-list" => {
            let tasks = client.list_tasks(&list_params(args)?).await?;
            Output::rows(
                &["ID", "Type", "Status", "Owner"],
                &["id", "type", "status", "owner"],
                &tasks,
                Cells::Blank,
            )
        }
        "task-show" => task_output(client.show_task(positional(args, 0, "<TASK_ID>")?).await?),
        "task-create" => {
            let (Some(kind), input) = (args.one("type"), args.one("input").unwrap_or("{}")) else {
                return Err(Failure::Exit(
                    "Unable to create task. Specify task type and input.".into(),
                ));
            };
            let input: Value = serde_json::from_str(input)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| {
                    Failure::Exit(
                        "Failed to parse the \"input\" parameter. Must be a valid JSON object."
                            .into(),
                    )
                })?;
            task_output(
                client
                    .create_task(&json!({"type": kind, "input": input}))
                    .await?,
            )
        }
        "image-tasks" => {
            let id = positional(args, 0, "<IMAGE_ID>")?;
            let tasks = match client.image_tasks(id).await {
                Ok(tasks) => tasks,
                Err(ClientError::Http { status: 404, .. }) => {
                    return Err(Failure::Exit(format!("Image {id} not found.")))
                }
                Err(ClientError::Http { status: 501, .. }) => {
                    return Err(Failure::Exit(
                        "Server does not support image tasks API (v2.12)".into(),
                    ))
                }
                Err(e) => return Err(e.into()),
            };
            image_tasks_output(&tasks, session.verbose)
        }
        _ => return Ok(None),
    }))
}

/// glanceclient's query: the filters, then the page size (20 unless given) and the
/// order (status, descending, unless given), each checked against its choices.
fn list_params(args: &CommandArgs) -> Result<Vec<(String, String)>, Failure> {
    let mut params: Vec<(String, String)> = ["type", "status"]
        .iter()
        .filter_map(|k| args.one(k).map(|v| (k.to_string(), v.to_string())))
        .collect();
    let page_size = args.one("page-size").unwrap_or("20");
    page_size.parse::<u64>().map_err(|_| {
        Failure::Usage(format!(
            "argument --page-size: invalid int value: '{page_size}'"
        ))
    })?;
    // glanceclient asks for its default page size when given 0.
    let page_size = if page_size == "0" { "20" } else { page_size };
    params.push(("limit".into(), page_size.into()));
    for (option, default, choices) in [
        ("sort-key", "status", SORT_KEYS),
        ("sort-dir", "desc", SORT_DIRS),
    ] {
        let value = args.one(option).unwrap_or(default);
        if !choices.contains(&value) {
            let quoted: Vec<String> = choices.iter().map(|c| format!("'{c}'")).collect();
            return Err(Failure::Usage(format!(
                "argument --{option}: invalid choice: '{value}' (choose from {})",
                quoted.join(", ")
            )));
        }
        params.push((option.replace('-', "_"), value.into()));
    }
    Ok(params)
}

/// task-show and task-create print the task but its `self` and `schema` links.
fn task_output(task: Value) -> Output {
    let mut task = task;
    if let Some(fields) = task.as_object_mut() {
        fields.remove("self");
        fields.remove("schema");
    }
    Output::object(&task)
}

/// `print_dict_list` of the tasks: message, status and time, and with `--verbose`
/// the ids around them and the details after.
fn image_tasks_output(tasks: &[Value], verbose: bool) -> Output {
    let mut columns = vec![
        ("Message", "message"),
        ("Status", "status"),
        ("Updated at", "updated_at"),
    ];
    if verbose {
        columns.splice(0..0, [("Image Id", "image_id"), ("Task Id", "id")]);
        columns.extend([
            ("User Id", "user_id"),
            ("Request Id", "request_id"),
            ("Result", "result"),
            ("Owner", "owner"),
            ("Input", "input"),
            ("Expires at", "expires_at"),
        ]);
    }
    let (headers, keys): (Vec<&str>, Vec<&str>) = columns.into_iter().unzip();
    Output::rows(&headers, &keys, tasks, Cells::PythonStr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modern::output::Format;

    fn args(words: &str) -> CommandArgs {
        let argv: Vec<String> = words.split_whitespace().map(str::to_string).collect();
        super::super::args::parse(&argv).unwrap().args
    }

    #[test]
    fn task_list_queries_as_glanceclient() {
        let params = list_params(&args("task-list --status success --page-size 5")).unwrap();
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("status", "success"),
                ("limit", "5"),
                ("sort_key", "status"),
                ("sort_dir", "desc")
            ]
        );
        assert!(list_params(&args("task-list --sort-key owner")).is_err());
    }

    #[test]
    fn image_tasks_verbose_columns() {
        let task = json!({"id": "t", "image_id": "i", "message": "", "status": "success",
                          "updated_at": "u", "input": {"image_id": "i"}, "result": null});
        let out = image_tasks_output(&[task], true);
        let value = out.render(Format::Value);
        assert_eq!(value, "i t  success u   None  {'image_id': 'i'} \n");
    }
}
