//! The HTML report: one self-contained page (inline CSS; no scripts, fonts
//! or anything else fetched), readable in any browser and printable.
//!
//! Sections: scan header, secure score with per-control bars, counts by
//! severity and status, unhealthy recommendations (worst first) with their
//! resources and remediation, exemptions, assessments that could not be
//! made, compliance per standard, coverage gaps, and (when the scan read
//! machines' disks) machine vulnerabilities, secrets and unread machines.
//!
//! Every string that is not Rampart's own constant text goes through
//! [`escape_html`]: resource names, tags, ARNs and reasons come from AWS
//! accounts, which an attacker may control.

use std::collections::BTreeMap;

use rampart_catalog::Recommendation;
use rampart_catalog::compliance::{ControlState, StandardResult};
use rampart_model::{Assessment, AssessmentStatus, Severity};

use crate::{Findings, ReportError, recommendation, rfc3339, severity_caption};

/// Resources listed per recommendation before "and N more".
const RESOURCES_SHOWN: usize = 50;

/// Escapes text for HTML element content and quoted attribute values:
/// `&`, `<`, `>`, `"` and `'` become character references.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa;
  --critical: #8b0000; --high: #cf222e; --medium: #bc4c00; --low: #9a6700; --informational: #57606a;
  --ok: #1a7f37; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: var(--fg); margin: 0 auto; max-width: 1200px; padding: 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .75rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--bg); }
td.num, th.num { text-align: right; white-space: nowrap; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
pre { background: var(--bg); border: 1px solid var(--line); padding: .5rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.muted { color: var(--muted); }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .75rem 0; }
.meta dt { font-weight: 600; }
.meta dd { margin: 0; }
.score { font-size: 2.5rem; font-weight: 700; }
.bar { background: var(--bg); border: 1px solid var(--line); height: .9rem; min-width: 8rem; }
.bar > span { display: block; height: 100%; background: var(--ok); }
.badge { display: inline-block; padding: 0 .4rem; border-radius: .6rem; font-size: .8rem; font-weight: 600;
  color: #fff; background: var(--informational); white-space: nowrap; }
.sev-critical { background: var(--critical); } .sev-high { background: var(--high); }
.sev-medium { background: var(--medium); } .sev-low { background: var(--low); }
.sev-informational { background: var(--informational); }
.st-healthy, .st-passed { background: var(--ok); } .st-unhealthy, .st-failed { background: var(--high); }
.st-error { background: var(--medium); } .st-exempt { background: #6639ba; }
.st-not_applicable, .st-no_resources, .st-manual, .st-not_covered { background: var(--informational); }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; }
.card { border: 1px solid var(--line); border-radius: .4rem; padding: .5rem .75rem; min-width: 8rem; }
.card b { display: block; font-size: 1.4rem; }
section.rec { border: 1px solid var(--line); border-radius: .4rem; padding: .25rem 1rem .75rem; margin: 1rem 0; }
.wrap { word-break: break-all; }
details > summary { cursor: pointer; margin: .5rem 0; }
@media print { details { display: block; } body { max-width: none; } }
"#;

/// Escaped text.
fn e(text: &str) -> String {
    escape_html(text)
}

fn severity_badge(severity: Severity) -> String {
    format!(
        r#"<span class="badge sev-{}">{}</span>"#,
        severity.as_str(),
        severity_caption(severity)
    )
}

fn status_badge(status: &str) -> String {
    format!(
        r#"<span class="badge st-{}">{}</span>"#,
        e(status),
        e(&status.replace('_', " "))
    )
}

fn points(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn header(out: &mut String, f: &Findings<'_>) -> Result<(), ReportError> {
    let scan = f.scan;
    let finished = match scan.finished_at {
        Some(t) => e(&rfc3339(t)?),
        None => "not finished".to_owned(),
    };
    out.push_str("<header>\n<h1>Rampart security posture report</h1>\n");
    out.push_str(&format!(
        r#"<p class="muted">Generated {}</p>
<dl class="meta">
<dt>Scan</dt><dd><code>{}</code> ({})</dd>
<dt>Accounts</dt><dd>{}</dd>
<dt>Regions</dt><dd>{}</dd>
<dt>Started</dt><dd>{}</dd>
<dt>Finished</dt><dd>{}</dd>
<dt>Assets</dt><dd>{} assets, {} API calls, {} coverage gaps</dd>
</dl>
</header>
"#,
        e(&rfc3339(f.generated_at)?),
        e(&scan.id),
        scan.status.as_str(),
        e(&scan.accounts.join(", ")),
        e(&scan.regions.join(", ")),
        e(&rfc3339(scan.started_at)?),
        finished,
        scan.asset_count,
        scan.api_calls,
        f.gaps.len(),
    ));
    Ok(())
}

fn score(out: &mut String, f: &Findings<'_>) {
    let s = f.score;
    out.push_str(&format!(
        "<h2 id=\"score\">Secure score</h2>\n<p><span class=\"score\">{}%</span> \
         <span class=\"muted\">of the points of {} security controls with assessed resources</span></p>\n",
        points(s.percent),
        s.controls.len()
    ));
    if s.controls.is_empty() {
        out.push_str("<p class=\"muted\">No resource was assessed.</p>\n");
        return;
    }
    out.push_str(
        "<table>\n<thead><tr><th>Security control</th><th>Score</th><th class=\"num\">Points</th>\
         <th class=\"num\">Potential increase</th><th class=\"num\">Healthy</th>\
         <th class=\"num\">Unhealthy</th></tr></thead>\n<tbody>\n",
    );
    for c in &s.controls {
        let width = if c.max > 0.0 {
            (c.current / c.max * 100.0).clamp(0.0, 100.0)
        } else {
            0.0
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td><div class=\"bar\" title=\"{:.0}%\"><span style=\"width:{:.1}%\"></span></div></td>\
             <td class=\"num\">{} / {}</td><td class=\"num\">+{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            e(&c.name),
            width,
            width,
            points(c.current),
            points(c.max),
            points(c.potential_increase),
            c.healthy,
            c.unhealthy,
        ));
    }
    out.push_str("</tbody>\n</table>\n");
}

fn counts(out: &mut String, f: &Findings<'_>, rec_of: &[&Recommendation]) {
    let mut by_status: BTreeMap<AssessmentStatus, usize> = BTreeMap::new();
    let mut by_severity: BTreeMap<Severity, usize> = BTreeMap::new();
    for (a, rec) in f.assessments.iter().zip(rec_of) {
        *by_status.entry(a.status).or_default() += 1;
        if a.status == AssessmentStatus::Unhealthy {
            *by_severity.entry(rec.severity).or_default() += 1;
        }
    }
    out.push_str("<h2 id=\"counts\">Assessments</h2>\n<h3>Unhealthy, by severity</h3>\n<div class=\"cards\">\n");
    for sev in Severity::ALL.into_iter().rev() {
        out.push_str(&format!(
            "<div class=\"card\"><b>{}</b>{}</div>\n",
            by_severity.get(&sev).copied().unwrap_or_default(),
            severity_badge(sev)
        ));
    }
    out.push_str("</div>\n<h3>All, by status</h3>\n<div class=\"cards\">\n");
    for status in [
        AssessmentStatus::Unhealthy,
        AssessmentStatus::Healthy,
        AssessmentStatus::Error,
        AssessmentStatus::Exempt,
        AssessmentStatus::NotApplicable,
    ] {
        out.push_str(&format!(
            "<div class=\"card\"><b>{}</b>{}</div>\n",
            by_status.get(&status).copied().unwrap_or_default(),
            status_badge(status.as_str())
        ));
    }
    out.push_str("</div>\n");
}

fn unhealthy(out: &mut String, f: &Findings<'_>, rec_of: &[&Recommendation]) {
    // recommendation id -> (recommendation, unhealthy assessments)
    let mut groups: BTreeMap<&str, (&Recommendation, Vec<&Assessment>)> = BTreeMap::new();
    for (a, rec) in f.assessments.iter().zip(rec_of) {
        if a.status == AssessmentStatus::Unhealthy {
            groups
                .entry(rec.id.as_str())
                .or_insert_with(|| (rec, Vec::new()))
                .1
                .push(a);
        }
    }
    let mut groups: Vec<_> = groups.into_values().collect();
    groups.sort_by(|(ra, la), (rb, lb)| {
        rb.severity
            .cmp(&ra.severity)
            .then_with(|| lb.len().cmp(&la.len()))
            .then_with(|| ra.id.cmp(&rb.id))
    });
    out.push_str("<h2 id=\"unhealthy\">Unhealthy recommendations</h2>\n");
    if groups.is_empty() {
        out.push_str("<p>No resource is unhealthy.</p>\n");
        return;
    }
    out.push_str("<p class=\"muted\">Worst first: by severity, then by the number of affected resources.</p>\n");
    for (rec, list) in groups {
        out.push_str(&format!(
            "<section class=\"rec\" id=\"rec-{}\">\n<h3>{} {}</h3>\n\
             <p class=\"muted\"><code>{}</code> · {} · {} unhealthy resource{}</p>\n<p>{}</p>\n",
            e(&rec.id),
            severity_badge(rec.severity),
            e(&rec.title),
            e(&rec.id),
            e(&rec.security_control),
            list.len(),
            if list.len() == 1 { "" } else { "s" },
            e(&rec.description),
        ));
        if !rec.standards.is_empty() {
            out.push_str(&format!(
                "<p class=\"muted\">Standards: {}</p>\n",
                e(&rec.standards.join(", "))
            ));
        }
        out.push_str(
            "<table>\n<thead><tr><th>Resource</th><th>Account</th><th>Region</th><th>Reason</th></tr></thead>\n<tbody>\n",
        );
        for a in list.iter().take(RESOURCES_SHOWN) {
            out.push_str(&format!(
                "<tr><td>{}<br><code class=\"wrap muted\">{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                e(&a.resource_name),
                e(&a.resource),
                e(&a.account),
                e(&a.region),
                e(&a.reason),
            ));
        }
        out.push_str("</tbody>\n</table>\n");
        if list.len() > RESOURCES_SHOWN {
            out.push_str(&format!(
                "<p class=\"muted\">…and {} more (the JSON and CSV exports list them all).</p>\n",
                list.len() - RESOURCES_SHOWN
            ));
        }
        let r = &rec.remediation;
        out.push_str(&format!("<h4>Remediation</h4>\n<p>{}</p>\n", e(&r.text)));
        if !r.cli.is_empty() {
            out.push_str(&format!(
                "<p>AWS CLI:</p>\n<pre>{}</pre>\n",
                e(r.cli.trim_end())
            ));
        }
        if !r.cloudformation.is_empty() {
            out.push_str(&format!(
                "<details><summary>CloudFormation</summary>\n<pre>{}</pre>\n</details>\n",
                e(r.cloudformation.trim_end())
            ));
        }
        out.push_str("</section>\n");
    }
}

fn others(out: &mut String, f: &Findings<'_>, rec_of: &[&Recommendation]) {
    let exempt: Vec<_> = f
        .assessments
        .iter()
        .zip(rec_of)
        .filter(|(a, _)| a.status == AssessmentStatus::Exempt)
        .collect();
    out.push_str("<h2 id=\"exempt\">Exemptions</h2>\n");
    if exempt.is_empty() {
        out.push_str("<p class=\"muted\">No assessment is exempt.</p>\n");
    } else {
        out.push_str(
            "<table>\n<thead><tr><th>Recommendation</th><th>Resource</th><th>Would be</th>\
             <th>Reason</th><th>Expires</th></tr></thead>\n<tbody>\n",
        );
        for (a, rec) in exempt {
            let (was, reason, expires) = match &a.exemption {
                Some(n) => (
                    status_badge(n.original_status.as_str()),
                    e(&n.reason),
                    n.expires
                        .as_deref()
                        .map(e)
                        .unwrap_or_else(|| "never".to_owned()),
                ),
                None => (String::new(), String::new(), String::new()),
            };
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}<br><code class=\"wrap muted\">{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                e(&rec.title),
                e(&a.resource_name),
                e(&a.resource),
                was,
                reason,
                expires,
            ));
        }
        out.push_str("</tbody>\n</table>\n");
    }
    let errors: Vec<_> = f
        .assessments
        .iter()
        .zip(rec_of)
        .filter(|(a, _)| a.status == AssessmentStatus::Error)
        .collect();
    out.push_str("<h2 id=\"errors\">Could not assess</h2>\n");
    if errors.is_empty() {
        out.push_str("<p class=\"muted\">Every assessment had the data it needed.</p>\n");
        return;
    }
    out.push_str(
        "<p class=\"muted\">The scan could not read what these checks need; they count neither as healthy nor as unhealthy.</p>\n\
         <table>\n<thead><tr><th>Recommendation</th><th>Resource</th><th>Reason</th></tr></thead>\n<tbody>\n",
    );
    for (a, rec) in errors {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}<br><code class=\"wrap muted\">{}</code></td><td>{}</td></tr>\n",
            e(&rec.title),
            e(&a.resource_name),
            e(&a.resource),
            e(&a.reason),
        ));
    }
    out.push_str("</tbody>\n</table>\n");
}

const STATES: [ControlState; 6] = [
    ControlState::Failed,
    ControlState::Passed,
    ControlState::Error,
    ControlState::NoResources,
    ControlState::Manual,
    ControlState::NotCovered,
];

fn state_caption(state: ControlState) -> &'static str {
    match state {
        ControlState::Failed => "Failed",
        ControlState::Passed => "Passed",
        ControlState::Error => "Error",
        ControlState::NoResources => "No resources",
        ControlState::Manual => "Manual",
        ControlState::NotCovered => "Not covered",
    }
}

fn standards(out: &mut String, standards: &[StandardResult]) {
    out.push_str("<h2 id=\"compliance\">Compliance</h2>\n");
    if standards.is_empty() {
        out.push_str("<p class=\"muted\">No standard was assessed.</p>\n");
        return;
    }
    out.push_str("<table>\n<thead><tr><th>Standard</th>");
    for state in STATES {
        out.push_str(&format!("<th class=\"num\">{}</th>", state_caption(state)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for s in standards {
        out.push_str(&format!(
            "<tr><td><a href=\"#std-{}\">{}</a></td>",
            e(&s.id),
            e(&s.name)
        ));
        for state in STATES {
            out.push_str(&format!("<td class=\"num\">{}</td>", s.count(state)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str(
        "</tbody>\n</table>\n<p class=\"muted\">Manual: not assessable automatically. \
                  Not covered: automatable, but no Rampart recommendation checks it yet.</p>\n",
    );
    for s in standards {
        out.push_str(&format!(
            "<h3 id=\"std-{}\">{}</h3>\n<details><summary>{} controls: {} failed, {} passed</summary>\n\
             <table>\n<thead><tr><th>Control</th><th>Title</th><th>State</th><th>Recommendations</th>\
             <th class=\"num\">Healthy</th><th class=\"num\">Unhealthy</th><th class=\"num\">Error</th>\
             <th class=\"num\">Exempt</th></tr></thead>\n<tbody>\n",
            e(&s.id),
            e(&s.name),
            s.controls.len(),
            s.count(ControlState::Failed),
            s.count(ControlState::Passed),
        ));
        for c in &s.controls {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                e(&c.id),
                e(&c.title),
                status_badge(c.state.as_str()),
                e(&c.recommendations.join(", ")),
                c.healthy,
                c.unhealthy,
                c.error,
                c.exempt,
            ));
        }
        out.push_str("</tbody>\n</table>\n</details>\n");
    }
}

fn gaps(out: &mut String, f: &Findings<'_>) {
    out.push_str("<h2 id=\"gaps\">Coverage gaps</h2>\n");
    if f.gaps.is_empty() {
        out.push_str("<p class=\"muted\">The scan read everything it tried to.</p>\n");
        return;
    }
    out.push_str(
        "<p class=\"muted\">Parts of the accounts the scan could not read; checks that need them are reported as errors.</p>\n\
         <table>\n<thead><tr><th>Account</th><th>Region</th><th>Service</th><th>Operation</th>\
         <th>Kind</th><th class=\"num\">Calls</th><th>Error</th></tr></thead>\n<tbody>\n",
    );
    for g in f.gaps {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"wrap\">{}</td></tr>\n",
            e(&g.account),
            e(&g.region),
            e(&g.service),
            e(&g.operation),
            g.kind.as_str(),
            g.occurrences,
            e(&g.error),
        ));
    }
    out.push_str("</tbody>\n</table>\n");
}

pub(crate) fn render(f: &Findings<'_>) -> Result<String, ReportError> {
    let rec_of = f
        .assessments
        .iter()
        .map(|a| recommendation(f.catalog, a))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = String::with_capacity(16 * 1024);
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"Rampart {}\">\n\
         <title>Rampart report: {}</title>\n<style>{}</style>\n</head>\n<body>\n",
        env!("CARGO_PKG_VERSION"),
        e(&f.scan.accounts.join(", ")),
        STYLE
    ));
    header(&mut out, f)?;
    out.push_str(
        "<nav><a href=\"#score\">Secure score</a> · <a href=\"#counts\">Assessments</a> · \
         <a href=\"#unhealthy\">Unhealthy</a> · <a href=\"#exempt\">Exemptions</a> · \
         <a href=\"#errors\">Could not assess</a> · <a href=\"#compliance\">Compliance</a> · \
         <a href=\"#gaps\">Coverage gaps</a>",
    );
    if !f.machines.is_empty() {
        out.push_str(" · <a href=\"#machines\">Machine vulnerabilities</a>");
    }
    out.push_str("</nav>\n<main>\n");
    score(&mut out, f);
    counts(&mut out, f, &rec_of);
    unhealthy(&mut out, f, &rec_of);
    others(&mut out, f, &rec_of);
    standards(&mut out, f.standards);
    gaps(&mut out, f);
    if !f.machines.is_empty() {
        crate::machines::html_section(&mut out, f)?;
    }
    out.push_str("</main>\n</body>\n</html>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape_html("\"><img src=x onerror=alert(1)>"),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(escape_html("a & 'b'"), "a &amp; &#39;b&#39;");
        assert_eq!(escape_html("&amp;"), "&amp;amp;");
        assert_eq!(escape_html("plain näme/ü"), "plain näme/ü");
        assert_eq!(escape_html(""), "");
    }

    #[test]
    fn points_drop_trailing_zeros() {
        assert_eq!(points(10.0), "10");
        assert_eq!(points(3.33), "3.33");
        assert_eq!(points(6.5), "6.5");
    }
}
