//! The contract's rules for the paths a plugin names (`files` and `remote`), one implementation
//! for the host and the SDK's test host.

use crate::CallError;

/// How names the host keeps for itself begin (its staging folder, its temporary files); a
/// plugin may not use them.
pub const HOST_NAME_PREFIX: &str = ".moport-";

/// A path in the plugin's output folder as `files` takes it: relative, plain names separated by
/// single `/`, no `..` or `.`, no NUL, none beginning [`HOST_NAME_PREFIX`]; `""`, the folder
/// itself, only where `allow_root`. Its names, or why it is refused.
pub fn output_path(path: &str, allow_root: bool) -> Result<Vec<&str>, CallError> {
    let refuse = |why: &str| Err(CallError::Invalid(format!("path `{path}` refused: {why}")));
    if path.is_empty() {
        return if allow_root { Ok(Vec::new()) } else { refuse("it is empty") };
    }
    if path.contains('\0') {
        return refuse("it contains a NUL character");
    }
    if path.starts_with('/') {
        return refuse("absolute paths are not allowed; give a path inside the output folder");
    }
    let names: Vec<&str> = path.split('/').collect();
    for name in &names {
        match *name {
            "" | "." => return refuse("use plain names separated by single `/`"),
            ".." => return refuse("`..` would leave the output folder"),
            _ if name.starts_with(HOST_NAME_PREFIX) => {
                return refuse(&format!("names beginning `{HOST_NAME_PREFIX}` are the host's own"));
            }
            _ => {}
        }
    }
    Ok(names)
}

/// A path inside a remote target as `remote` takes it: relative, `/`-separated, without `..`,
/// `\` or control characters; empty and `.` parts are dropped. `""`, the target's top folder,
/// only where `folder`.
pub fn remote_path(path: &str, folder: bool) -> Result<String, CallError> {
    let parts: Vec<&str> = path.split('/').filter(|part| !part.is_empty() && *part != ".").collect();
    if path.starts_with('/') || path.contains('\\') || path.chars().any(char::is_control) || parts.contains(&"..") {
        return Err(CallError::Invalid(format!(
            "remote path `{path}` must be relative to the target, without `..` (for example `out/file.csv`)"
        )));
    }
    if parts.is_empty() && !folder {
        return Err(CallError::Invalid("a remote file path is empty".to_owned()));
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(result: Result<Vec<&str>, CallError>) -> String {
        match result {
            Err(CallError::Invalid(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn output_paths_stay_inside_the_folder_and_off_the_hosts_names() {
        assert!(refused(output_path("../x", false)).contains("`..` would leave"));
        assert!(refused(output_path("a/../../x", false)).contains("`..`"));
        assert!(refused(output_path("/etc/passwd", false)).contains("absolute"));
        assert!(refused(output_path("a//b", false)).contains("plain names"));
        assert!(refused(output_path("./a", false)).contains("plain names"));
        assert!(refused(output_path("", false)).contains("empty"));
        assert!(refused(output_path("a\0b", false)).contains("NUL"));
        assert!(refused(output_path(".moport-staging-x/a", false)).contains("the host's own"));
        assert_eq!(output_path("sub/file.csv", false).unwrap(), ["sub", "file.csv"]);
        assert!(output_path("", true).unwrap().is_empty());
    }

    #[test]
    fn remote_paths_stay_inside_the_target() {
        assert_eq!(remote_path("out//./a.csv", false).unwrap(), "out/a.csv");
        assert_eq!(remote_path("", true).unwrap(), "");
        assert!(remote_path("", false).is_err());
        for bad in ["/etc/passwd", "../x", "a/../../x", "a\\b", "a\r\nDELE b"] {
            assert!(matches!(remote_path(bad, false), Err(CallError::Invalid(_))), "{bad}");
        }
    }
}
