"""/plugins lists the loaded plugins and the hooks each implements."""
from __future__ import annotations


def test_plugins_page_lists_plugins_and_hooks(site, user):
    html = user.get("/plugins").get_data(as_text=True)
    assert "<strong>testsrv</strong>" in html
    row = html[html.index("<strong>testsrv</strong>"):].split("</tr>")[0]
    for hook in ("syncdub_check", "syncdub_register_routes", "syncdub_register_settings"):
        assert hook in row
    assert str(site.config_path.parent / "plugins" / "testsrv.py") in row
