"""The everyday pages in a real browser (browser/pages.mjs): login, portal, account and
devices, in Japanese and English, at phone and desktop widths, for a tenant with its
branding (a long Japanese company name, a logo, a light accent colour, a help link) and
17 apps (so the portal has its search box).  axe-core must find no
serious or critical violation, no text may overflow its box (the devices table once
wrapped one character per line in Japanese), and the screenshots are kept: under
$SEKISHO_TEST_OUT/browser-pages (tests/run's output directory), else a fresh directory."""
import os
import tempfile

import sekisho_test as st
from peers.device import issue

t = st.Tap()
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
       '<rect width="32" height="32" rx="6" fill="#2c5364"/></svg>')


def add_apps(srv, tmp):
    """Apps with Japanese names, descriptions and an icon, as a company would have."""
    icon = os.path.join(tmp, "icon.svg")
    with open(icon, "w") as f:
        f.write(SVG)
    apps = (("kintai", "勤怠管理システム", "出退勤の打刻、休暇の申請と承認、残業時間の確認"),
            ("wiki", "社内Wiki", "部署ごとの手順書と議事録"),
            ("expense", "経費精算", "領収書の写真を添えて申請"))
    for i, (name, display, desc) in enumerate(apps):
        srv.cli("app", "add-oidc", name, "--redirect-uri",
                "https://%s.example.jp/oauth2/callback" % name, "--public")
        srv.cli("app", "set", name, "--display-name", display, "--description", desc,
                *(["--icon", icon] if i != 1 else []))


def brand(srv, tmp):
    """A company's branding with a long Japanese name, and more apps than the portal shows
    without its search box (12)."""
    logo = os.path.join(tmp, "logo.svg")
    with open(logo, "w") as f:
        f.write(SVG)
    srv.cli("tenant", "set", "default", "--display-name", "株式会社アクメ・ホールディングス東日本",
            "--logo", logo, "--color", "#0a5", "--help-url", "https://help.example.jp/")
    for i in range(14):
        name = "tool%02d" % i
        srv.cli("app", "add-oidc", name, "--redirect-uri",
                "https://%s.example.jp/cb" % name, "--public")
        srv.cli("app", "set", name, "--display-name", "業務ツール第%d号" % (i + 1))


def add_devices(srv, tmp, user):
    """An active device with a long Japanese label and a revoked one."""
    issue(srv, tmp, "laptop", user, "営業部の貸与ノートPC（ThinkPad X1 第11世代）")
    _, serial = issue(srv, tmp, "phone", user, "私物スマートフォン")
    srv.cli("cert", "revoke", serial.lower())


srv = st.Server()
try:
    tmp = tempfile.mkdtemp(prefix="sekisho-browser-pages-")
    srv.add_user("hanako", "hanako-password-1", email="hanako.yamada@example.co.jp",
                 display="山田 花子（株式会社アクメ 東日本営業本部 第二営業部）")
    add_apps(srv, tmp)
    brand(srv, tmp)
    add_devices(srv, tmp, "hanako")
    out = st.artifacts("browser-pages")
    cfg = {"spki": st.spki_hash(srv.ca), "base": srv.base(), "user": "hanako",
           "password": "hanako-password-1", "artifacts": out}
    st.browser_script(t, "pages.mjs", cfg, tmp, timeout=600)
    shots = sorted(f for f in os.listdir(out) if f.endswith(".png"))
    t.ok(len(shots) == 16, "16 screenshots (4 pages, 2 languages, 2 widths) kept in " + out,
         shots)
    t.ok("hanako-password-1" not in srv.log(), "the password never reaches the log")
finally:
    srv.close()
t.done()
