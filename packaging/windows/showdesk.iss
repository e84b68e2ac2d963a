; Inno Setup 6 script for the Windows installer of Showdesk. packaging/build-windows.ps1 runs
;   iscc /DAppVersion=0.1.0 /DSourceDir=dist\showdesk /DOutputDir=dist packaging\windows\showdesk.iss
; after PyInstaller has built the one-folder bundle. Per-user install by default (no admin
; rights needed on a door laptop); an administrator may choose all users.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\showdesk"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
AppId={{6F1E7C52-3B0A-4E55-9C1B-5D2A8E0F4B71}
AppName=Showdesk
AppVersion={#AppVersion}
AppVerName=Showdesk {#AppVersion}
AppPublisher=FashionOS
DefaultDirName={autopf}\Showdesk
DefaultGroupName=Showdesk
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=showdesk-setup-{#AppVersion}-x64
#ifdef IconFile
#if FileExists(IconFile)
SetupIconFile={#IconFile}
#endif
#endif
UninstallDisplayIcon={app}\showdesk.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; The log, settings and replica live in the user's folders (platformdirs), not under {app}:
; an uninstall leaves the event's data in place.

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; A bundle from an older version may hold libraries this one no longer ships.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\Showdesk"; Filename: "{app}\showdesk.exe"
Name: "{autoprograms}\Showdesk (kiosk)"; Filename: "{app}\showdesk.exe"; Parameters: "--kiosk"
Name: "{autodesktop}\Showdesk"; Filename: "{app}\showdesk.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\showdesk.exe"; Description: "{cm:LaunchProgram,Showdesk}"; Flags: nowait postinstall skipifsilent
