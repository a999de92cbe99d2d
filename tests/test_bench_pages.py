"""bench/pages.py measures every console list and can still reach each page it names (no timing here)."""

from __future__ import annotations

from flask_admin.contrib.sqla import ModelView

from bench import pages as bench_pages

# The case filters issue 11 asks the bench to time, by the names bench/pages.py gives them.
CASE_FILTERS = {"status", "mode", "town", "center", "item", "received", "deadline", "extended"}


def test_bench_pages_time_the_list_of_every_registered_model_view(app):
    admin = app.extensions["admin"][0]
    lists = {f"{view.endpoint}.index_view" for view in admin._views if isinstance(view, ModelView)}
    timed = {page.endpoint for page in bench_pages.PAGES}
    assert len(lists) == 15
    assert lists - timed == set()


def test_last_page_is_read_from_the_pagers_last_link_not_counted():
    pager = """<ul class="pagination">
      <li class="page-item"><a class="page-link" href="/admin/case/?page=0">1</a></li>
      <li class="page-item active"><a class="page-link" href="javascript:void(0)">2</a></li>
      <li class="page-item"><a class="page-link" href="/admin/case/?page=2&amp;sort=7">3</a></li>
      <li class="page-item"><a class="page-link" href="/admin/case/?page=33332&amp;sort=7">&raquo;</a></li>
    </ul>"""
    assert bench_pages.last_page_url(pager, "/first") == "/admin/case/?page=33332&sort=7"
    short = pager.replace(
        '<li class="page-item"><a class="page-link" href="/admin/case/?page=33332&amp;sort=7">&raquo;</a></li>', ""
    )
    assert bench_pages.last_page_url(short, "/first") == "/admin/case/?page=2&sort=7"
    assert bench_pages.last_page_url("<table></table>", "/first") == "/first"


def test_every_bench_page_answers_each_role_on_the_demo_data(demo_app, capsys):
    url = demo_app.config["SQLALCHEMY_DATABASE_URI"]
    # A town admin opens the same pages as a clerk; one request each, no warm-up: nothing is timed.
    results = bench_pages.run_size(url, ["district", "village"], bench_pages.PAGES, 1, "Chaonan#2024", warmup=False)
    measured = {key: result for key, result in results.items() if key != "_app"}
    failed = {key: result.status for key, result in measured.items() if result.status != 200}
    assert failed == {}
    printed = capsys.readouterr().out
    assert "warning" not in printed and "skipped" not in printed
    # The district admin times every page; a clerk all but the audit log
    # (auditors and district admins only) and the user list (district admins only).
    district = {key for key, role in measured if role == "district"}
    assert district == {page.key for page in bench_pages.PAGES}
    village = {key for key, role in measured if role == "village"}
    assert {page.key for page in bench_pages.PAGES} - village == {"audit_log", "audit_log_search", "user"}
    assert all(len(result.times) == 1 and result.queries[0] > 0 for result in measured.values())
