; OpenAgent installer for Windows (NSIS 3). Built by build/package-windows.sh:
;   makensis -DVERSION=0.1.0 -DEXE=path\to\openagent.exe -DOUT=path\to\setup.exe installer.nsi
; It installs per machine into Program Files, adds Start menu and desktop
; shortcuts and an uninstaller, and registers in "Apps & features".
; The window needs the Microsoft Edge WebView2 runtime, which Windows 10
; (21H2 and later) and 11 ship; older systems get it from
; https://go.microsoft.com/fwlink/p/?LinkId=2124703 (see build/README.md).

Unicode true
!include "MUI2.nsh"

!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!define NAME "OpenAgent"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\OpenAgent"

Name "${NAME} ${VERSION}"
OutFile "${OUT}"
InstallDir "$PROGRAMFILES64\OpenAgent"
InstallDirRegKey HKLM "Software\OpenAgent" "InstallDir"
RequestExecutionLevel admin
SetCompressor /SOLID lzma

!define MUI_ICON "icon.ico"
!define MUI_UNICON "icon.ico"
!define MUI_FINISHPAGE_RUN "$INSTDIR\openagent.exe"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${NAME}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${NAME} installer"
VIAddVersionKey "LegalCopyright" "OpenAgent developers"

Section "OpenAgent" SecMain
  SetShellVarContext all
  SetOutPath "$INSTDIR"
  File "/oname=openagent.exe" "${EXE}"
  File "icon.ico"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\OpenAgent.lnk" "$INSTDIR\openagent.exe" "" "$INSTDIR\icon.ico"
  CreateShortcut "$DESKTOP\OpenAgent.lnk" "$INSTDIR\openagent.exe" "" "$INSTDIR\icon.ico"
  WriteRegStr HKLM "Software\OpenAgent" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${NAME}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "OpenAgent developers"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\icon.ico"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  SetShellVarContext all
  ; The agent directory (%APPDATA%\OpenAgent) holds the user's data and stays.
  Delete "$SMPROGRAMS\OpenAgent.lnk"
  Delete "$DESKTOP\OpenAgent.lnk"
  Delete "$INSTDIR\openagent.exe"
  Delete "$INSTDIR\icon.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINST_KEY}"
  DeleteRegKey HKLM "Software\OpenAgent"
SectionEnd
