//! The PowerShell script sent with `AWS-RunPowerShellScript`.

use std::fmt::Write as _;

use crate::SqlvaError;
use crate::rules::{Rule, Scope};

/// Characters of standard output SSM Run Command returns inline
/// (`GetCommandInvocation` `StandardOutputContent`); the rest is dropped
/// unless the command writes to S3.
pub const SSM_OUTPUT_LIMIT: usize = 24_000;

/// The login's permissions, checked before any rule is judged: without
/// them catalog views silently hide rows.
pub const PERMISSIONS_QUERY: &str = "SELECT SUSER_SNAME() AS login_name,
       HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE') AS view_server_state,
       HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW ANY DEFINITION') AS view_any_definition;";

/// The user databases database-scope rules run in (snapshots excluded).
pub const DATABASE_LIST_QUERY: &str = "SELECT name, state_desc
FROM sys.databases
WHERE database_id > 4 AND source_database_id IS NULL
ORDER BY name;";

/// How the script is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOptions {
    /// Named instance (`SQLEXPRESS`); None = the default instance.
    pub instance: Option<String>,
    /// Only these user databases (None = every online user database).
    pub databases: Option<Vec<String>>,
    /// Characters of output the script writes at most, end record
    /// included; below [`SSM_OUTPUT_LIMIT`].
    pub output_budget: usize,
    /// Rows reported per record at most (the row count is always exact).
    pub max_rows: usize,
    /// Characters per reported value at most.
    pub max_value_chars: usize,
    /// Seconds each query may run.
    pub query_timeout_seconds: u32,
}

impl Default for ScriptOptions {
    fn default() -> Self {
        Self {
            instance: None,
            databases: None,
            output_budget: 23_000,
            max_rows: 25,
            max_value_chars: 200,
            query_timeout_seconds: 60,
        }
    }
}

fn invalid(option: &str, message: &str) -> SqlvaError {
    SqlvaError::InvalidOption {
        option: option.to_owned(),
        message: message.to_owned(),
    }
}

/// A PowerShell single-quoted string literal.
fn ps_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Renders the one script that runs `rules` (server rules in `master`,
/// database rules in each user database) and prints output format v1.
/// The script only reads.
pub fn render_script(rules: &[Rule], options: &ScriptOptions) -> Result<String, SqlvaError> {
    if let Some(instance) = &options.instance {
        let valid = !instance.is_empty()
            && instance.len() <= 16
            && instance
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '#'));
        if !valid {
            return Err(invalid(
                "instance",
                &format!("`{instance}` is not a SQL Server instance name"),
            ));
        }
    }
    if options.output_budget < 1_000 || options.output_budget > SSM_OUTPUT_LIMIT - 200 {
        return Err(invalid(
            "output_budget",
            "must be between 1000 and 23800 characters",
        ));
    }
    if options.max_rows == 0 || options.max_value_chars < 16 {
        return Err(invalid(
            "max_rows",
            "at least 1 row and 16 characters per value",
        ));
    }
    for rule in rules {
        crate::check_read_only(&rule.query).map_err(|message| SqlvaError::InvalidRule {
            rule: rule.id.clone(),
            message,
        })?;
        if rule.query.lines().any(|l| l.starts_with("'@")) {
            return Err(SqlvaError::InvalidRule {
                rule: rule.id.clone(),
                message: "a query line starts with `'@`".to_owned(),
            });
        }
    }
    let data_source = match &options.instance {
        Some(name) => format!(".\\{name}"),
        None => ".".to_owned(),
    };
    let databases = match &options.databases {
        Some(names) => format!(
            "@({})",
            names
                .iter()
                .map(|n| ps_quote(n))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "$null".to_owned(),
    };
    let ids = rules
        .iter()
        .map(|r| format!("\"{}\"", r.id))
        .collect::<Vec<_>>()
        .join(",");

    let mut out = String::new();
    out.push_str(HEADER);
    let _ = writeln!(out, "$DataSource = {}", ps_quote(&data_source));
    let _ = writeln!(out, "$OnlyDatabases = {databases}");
    let _ = writeln!(out, "$Budget = {}", options.output_budget);
    let _ = writeln!(out, "$MaxRows = {}", options.max_rows);
    let _ = writeln!(out, "$MaxValue = {}", options.max_value_chars);
    let _ = writeln!(out, "$QueryTimeout = {}", options.query_timeout_seconds);
    let _ = writeln!(out, "$RuleIds = '{ids}'");
    let _ = writeln!(out, "$PermissionsQuery = @'\n{PERMISSIONS_QUERY}\n'@");
    let _ = writeln!(out, "$DatabaseListQuery = @'\n{DATABASE_LIST_QUERY}\n'@");
    out.push_str("$Rules = New-Object System.Collections.Generic.List[hashtable]\n");
    for rule in rules {
        let scope = match rule.scope {
            Scope::Server => "server",
            Scope::Database => "database",
        };
        let _ = writeln!(
            out,
            "$Rules.Add(@{{ Id = '{}'; Scope = '{scope}'; Query = @'\n{}\n'@ }})",
            rule.id,
            rule.query.trim_end()
        );
    }
    out.push_str(BODY);
    Ok(out)
}

const HEADER: &str = r#"# Rampart SQL Server vulnerability assessment (rampart-sqlva, output format v1).
# Read-only: runs SELECT queries and xp_loginconfig as the SSM agent's
# Windows identity; changes nothing. Prints one JSON record per line; the
# total stays under $Budget characters (SSM keeps 24,000 characters inline).
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
"#;

const BODY: &str = r#"
Add-Type -AssemblyName System.Web
try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch { }
$script:Written = 0
$script:Stopped = $false
$Reserve = 120

function Format-Value($Value) {
    if ($null -eq $Value -or $Value -is [System.DBNull]) { return 'null' }
    if ($Value -is [bool]) { if ($Value) { $text = '1' } else { $text = '0' } }
    elseif ($Value -is [byte[]]) { $text = '0x' + [System.BitConverter]::ToString($Value).Replace('-', '') }
    elseif ($Value -is [datetime]) { $text = $Value.ToString('yyyy-MM-ddTHH:mm:ss.fff', [System.Globalization.CultureInfo]::InvariantCulture) }
    elseif ($Value -is [System.IFormattable]) { $text = $Value.ToString($null, [System.Globalization.CultureInfo]::InvariantCulture) }
    else { $text = [string]$Value }
    if ($text.Length -gt $MaxValue) { $text = $text.Substring(0, $MaxValue) + '...' }
    return [System.Web.HttpUtility]::JavaScriptStringEncode($text, $true)
}

function Write-Record([string]$Line, [switch]$Final) {
    if ($script:Stopped) { return }
    $limit = $Budget
    if (-not $Final) { $limit = $Budget - $Reserve }
    if ($script:Written + $Line.Length + 2 -gt $limit) {
        $script:Stopped = $true
        [Console]::Out.WriteLine('{"sqlva":1,"event":"budget_exhausted","budget":' + $Budget + '}')
        return
    }
    [Console]::Out.WriteLine($Line)
    $script:Written += $Line.Length + 2
}

function Invoke-Query([string]$Database, [string]$Query) {
    $script:Connection.ChangeDatabase($Database)
    $command = $script:Connection.CreateCommand()
    $command.CommandText = $Query
    $command.CommandTimeout = $QueryTimeout
    $result = @{ Columns = New-Object System.Collections.Generic.List[string]; Rows = New-Object System.Collections.Generic.List[object] }
    $reader = $command.ExecuteReader()
    try {
        for ($i = 0; $i -lt $reader.FieldCount; $i++) { $result.Columns.Add($reader.GetName($i)) }
        while ($reader.Read()) {
            $values = New-Object object[] $reader.FieldCount
            [void]$reader.GetValues($values)
            $result.Rows.Add($values)
        }
    } finally { $reader.Close() }
    return $result
}

function Format-Record([string]$Id, $Database, $Result, [int]$Limit) {
    $columns = @($Result.Columns | ForEach-Object { Format-Value $_ }) -join ','
    $rows = New-Object System.Collections.Generic.List[string]
    $shown = [Math]::Min($Limit, $Result.Rows.Count)
    for ($r = 0; $r -lt $shown; $r++) {
        $row = $Result.Rows[$r]
        $values = New-Object System.Collections.Generic.List[string]
        for ($c = 0; $c -lt $row.Length; $c++) { $values.Add((Format-Value $row[$c])) }
        $rows.Add('[' + ($values -join ',') + ']')
    }
    $truncated = 'false'
    if ($Result.Rows.Count -gt $Limit) { $truncated = 'true' }
    return '{"sqlva":1,"rule":"' + $Id + '","database":' + (Format-Value $Database) + ',"columns":[' + $columns + '],"rows":[' + ($rows -join ',') + '],"row_count":' + $Result.Rows.Count + ',"rows_truncated":' + $truncated + '}'
}

function Get-ErrorMessage($ErrorRecord) {
    $exception = $ErrorRecord.Exception
    while ($null -ne $exception.InnerException) { $exception = $exception.InnerException }
    return $exception.Message
}

function Format-Error([string]$Id, $Database, [string]$Message) {
    return '{"sqlva":1,"rule":"' + $Id + '","database":' + (Format-Value $Database) + ',"error":' + (Format-Value $Message) + '}'
}

function Invoke-Rule([string]$Id, $Database, [string]$Query, [int]$Limit) {
    $target = 'master'
    if ($null -ne $Database) { $target = $Database }
    try {
        $result = Invoke-Query $target $Query
        Write-Record (Format-Record $Id $Database $result $Limit)
        return $result
    } catch {
        Write-Record (Format-Error $Id $Database (Get-ErrorMessage $_))
        return $null
    }
}

Write-Record ('{"sqlva":1,"event":"begin","instance":' + (Format-Value $DataSource) + ',"server":' + (Format-Value $env:COMPUTERNAME) + ',"rules":[' + $RuleIds + ']}')
$builder = New-Object System.Data.SqlClient.SqlConnectionStringBuilder
$builder['Data Source'] = $DataSource
$builder['Initial Catalog'] = 'master'
$builder['Integrated Security'] = $true
$builder['Application Name'] = 'rampart-sqlva'
$builder['Connect Timeout'] = 15
$script:Connection = New-Object System.Data.SqlClient.SqlConnection $builder.ConnectionString
try { $script:Connection.Open() } catch {
    Write-Record ('{"sqlva":1,"event":"fatal","error":' + (Format-Value (Get-ErrorMessage $_)) + '}') -Final
    exit 1
}
[void](Invoke-Rule '_permissions' $null $PermissionsQuery 1)
$databases = @()
try {
    $databaseList = Invoke-Query 'master' $DatabaseListQuery
    if ($null -ne $OnlyDatabases) {
        $kept = New-Object System.Collections.Generic.List[object]
        foreach ($row in $databaseList.Rows) { if ($OnlyDatabases -contains $row[0]) { $kept.Add($row) } }
        $databaseList.Rows = $kept
    }
    Write-Record (Format-Record '_databases' $null $databaseList 100000)
    foreach ($row in $databaseList.Rows) { if ($row[1] -eq 'ONLINE') { $databases += [string]$row[0] } }
} catch {
    Write-Record (Format-Error '_databases' $null (Get-ErrorMessage $_))
}
foreach ($rule in $Rules) {
    if ($rule.Scope -eq 'server') { [void](Invoke-Rule $rule.Id $null $rule.Query $MaxRows) }
}
foreach ($database in $databases) {
    foreach ($rule in $Rules) {
        if ($rule.Scope -eq 'database') { [void](Invoke-Rule $rule.Id $database $rule.Query $MaxRows) }
    }
}
$script:Connection.Close()
Write-Record '{"sqlva":1,"event":"end"}' -Final
"#;
