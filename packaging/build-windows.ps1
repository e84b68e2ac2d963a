# Build Showdesk for Windows: the one-folder bundle (PyInstaller, packaging/showdesk.spec),
# a zip of it, and the installer (Inno Setup 6, packaging/windows/showdesk.iss) when `iscc`
# is installed. Written for the Windows job of .github/workflows/build.yml; not run in
# .ci/run (Linux only).
#
#   pwsh packaging/build-windows.ps1                  # fresh .build-venv with pip install . pyinstaller
#   pwsh packaging/build-windows.ps1 -Python python   # an environment that has both already
#
# Outputs in dist\: showdesk\ (the bundle), showdesk-windows-x64.zip, and
# showdesk-setup-<version>-x64.exe.
param(
    [string]$Python = "",
    [string]$Dist = "",
    [string]$Work = ""
)
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path (Join-Path $PSScriptRoot "..")).Path
if (-not $Dist) { $Dist = Join-Path $Root "dist" }
if (-not $Work) { $Work = Join-Path $Root "build\pyinstaller" }

function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

if (-not $Python) {
    Invoke-Checked "py" @("-3", "-m", "venv", (Join-Path $Root ".build-venv"))
    $Python = Join-Path $Root ".build-venv\Scripts\python.exe"
    Invoke-Checked $Python @("-m", "pip", "install", "-q", "--upgrade", "pip")
    Invoke-Checked $Python @("-m", "pip", "install", "-q", $Root, "pyinstaller")
}

$started = Get-Date
Push-Location $Root
try {
    Invoke-Checked $Python @("-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
        "--distpath", $Dist, "--workpath", $Work, "packaging\showdesk.spec")
} finally {
    Pop-Location
}
$Bundle = Join-Path $Dist "showdesk"
$Version = (& $Python -c "import importlib.metadata as m; print(m.version('showdesk'))").Trim()

$Zip = Join-Path $Dist "showdesk-windows-x64.zip"
if (Test-Path $Zip) { Remove-Item $Zip }
Compress-Archive -Path $Bundle -DestinationPath $Zip -CompressionLevel Optimal

$Iscc = Get-Command iscc -ErrorAction SilentlyContinue
if (-not $Iscc -and (Test-Path "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe")) {
    $Iscc = Get-Item "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe"
}
if ($Iscc) {
    $IsccPath = if ($Iscc -is [System.Management.Automation.CommandInfo]) { $Iscc.Source } else { $Iscc.FullName }
    Invoke-Checked $IsccPath @("/Q", "/DAppVersion=$Version", "/DSourceDir=$Bundle",
        "/DOutputDir=$Dist", "/DIconFile=$Root\packaging\icons\showdesk.ico",
        (Join-Path $Root "packaging\windows\showdesk.iss"))
} else {
    Write-Warning "Inno Setup (iscc) not found: no installer, only $Zip"
}

$mb = [math]::Round((Get-Item $Zip).Length / 1MB, 1)
Write-Host "Built $Bundle and $Zip ($mb MB) in $([int]((Get-Date) - $started).TotalSeconds) s"
