//! Response bodies the native and managed sides of ASP.NET write (CLR-03, PM5-08, HDR-04, HDR-07).

use crate::dispatch::{Header, Reply};
use crate::runtime::Version;

/// The "Server Application Unavailable" page every native-side failure answers with (CLR-03, HDR-05).
pub fn unavailable(status: u16, base: &[Header]) -> Reply {
    let body = [
        "<html>",
        "<head><title>Server Unavailable</title></head>",
        "<body>",
        "<h1>Server Application Unavailable</h1>",
        "The web application you are attempting to access on this web server is currently unavailable.&nbsp; Please hit the \"Refresh\" button in your web browser to retry your request.",
        "<p><b>Administrator Note:</b> An error message detailing the cause of this specific request failure can be found in the application event log of the web server.  Please review this log entry to discover what caused this error to occur.",
        "</body>",
        "</html>",
    ]
    .join("\n");
    html(status, 0, base, body)
}

/// aspnet_isapi's answer when the worker's queue is full (PM5-08).
pub fn too_busy(base: &[Header]) -> Reply {
    html(503, 0, base, "<html><body><h1>Server is too busy</h1></body></html>".into())
}

/// HTTP.sys's own 503, which no HttpErrors entry can replace (REQ-07, PM6-07).
pub fn http_sys_unavailable() -> Reply {
    Reply {
        status: 503,
        substatus: 0,
        // HTTP.sys 1.0's own answer: no Server header, only the reason in <h1> (HTTP-02, HTTP-03).
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: "<h1>Service Unavailable</h1>".into(),
    }
}

/// aspnet_isapi's minimal 400 for a dangerous path, before managed code (HDR-06).
pub fn bad_path(base: &[Header]) -> Reply {
    html(400, 0, base, "<html><body>Bad Request</body></html>".into())
}

/// ASP.NET's HttpForbiddenHandler answer (HDR-07): its message for everyone, the version footer
/// only for local clients (HDR-04).
pub fn forbidden(base: &[Header], app_vpath: &str, local: bool, versions: (&str, &str)) -> Reply {
    let message = "This type of page is not served.";
    let footer = if local {
        format!(
            "\n<hr>\n<b>Version Information:</b>&nbsp;Microsoft .NET Framework Version:{}; ASP.NET Version:{}",
            versions.0, versions.1
        )
    } else {
        String::new()
    };
    let body = format!(
        "<html><head><title>{message}</title></head><body>\n<h1>Server Error in '{app_vpath}' Application.</h1>\n<h2><i>{message}</i></h2>{footer}\n</body></html>"
    );
    html(403, 0, base, body)
}

/// ASP.NET's 404 for a page or handler whose file is missing (HDR-08): shown to remote clients too,
/// with the version footer (HDR-04); 1.x says "Requested Url", 2.0 and later "Requested URL".
pub fn not_found(base: &[Header], app_vpath: &str, url: &str, v: Version, versions: (&str, &str)) -> Reply {
    let label = if v.is_20_or_later() { "Requested URL" } else { "Requested Url" };
    let body = format!(
        "<html><head><title>The resource cannot be found.</title></head><body>\n<h1>Server Error in '{app_vpath}' Application.</h1>\n<h2><i>The resource cannot be found.</i></h2>\n<b>Description:</b> HTTP 404. The resource you are looking for (or one of its dependencies) could have been removed, had its name changed, or is temporarily unavailable.  Please review the following URL and make sure that it is spelled correctly.\n<br><br>\n<b>{label}:</b> {url}\n<hr>\n<b>Version Information:</b>&nbsp;Microsoft .NET Framework Version:{}; ASP.NET Version:{}\n</body></html>",
        versions.0, versions.1
    );
    html(404, 0, base, body)
}

/// IIS 6's answer when a w3wp.exe cannot load an ISAPI extension of the other bitness (PM6-08).
pub fn not_valid_win32(base: &[Header]) -> Reply {
    html(500, 0, base, "%1 is not a valid Win32 application.".into())
}

/// ASP.NET's redirect (`Response.Redirect`): 302 with Location and the "Object moved" body.
pub fn object_moved(base: &[Header], location: &str) -> Reply {
    let mut reply = html(
        302,
        0,
        base,
        format!("<html><head><title>Object moved</title></head><body>\n<h2>Object moved to <a href=\"{location}\">here</a>.</h2>\n</body></html>"),
    );
    reply.headers.push(("Location".into(), location.to_string().into()));
    reply
}

/// The managed error page (HDR-04): detailed with the version footer for local clients, the
/// generic "Runtime Error" page for remote ones under `customErrors mode="RemoteOnly"`.
pub fn managed_error(
    status: u16,
    base: &[Header],
    app_vpath: &str,
    message: &str,
    local: bool,
    versions: (&str, &str),
) -> Reply {
    let body = if local {
        format!(
            "<html><head><title>{message}</title></head><body>\n<h1>Server Error in '{app_vpath}' Application.</h1>\n<h2><i>{message}</i></h2>\n<hr>\n<b>Version Information:</b>&nbsp;Microsoft .NET Framework Version:{}; ASP.NET Version:{}\n</body></html>",
            versions.0, versions.1
        )
    } else {
        format!(
            "<html><head><title>Runtime Error</title></head><body>\n<h1>Server Error in '{app_vpath}' Application.</h1>\n<h2><i>Runtime Error</i></h2>\n<b>Description:</b> An application error occurred on the server. The current custom error settings for this application prevent the details of the application error from being viewed remotely (for security reasons).\n</body></html>"
        )
    };
    html(status, 0, base, body)
}

fn html(status: u16, substatus: u16, base: &[Header], body: String) -> Reply {
    let mut headers = base.to_vec();
    headers.push(("Content-Type".into(), "text/html".into()));
    Reply { status, substatus, headers, body }
}
