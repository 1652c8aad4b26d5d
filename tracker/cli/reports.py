"""``flask reports queue``: what waits for a coordinator's decision."""

from __future__ import annotations

import click
from flask_babel import gettext as _

from ..i18n import N_
from .base import TranslatedGroup

reports_cli = TranslatedGroup("reports", help=N_("进展报送与审核。"))


@reports_cli.command("queue", help=N_("列出待审核的进展报告和待审批的延期申请。"))
def reports_queue() -> None:
    from ..reports.queries import pending_extensions, tasks_by_id
    from ..reports.review_queue import QueueFilter, queue_page

    # the web queue's own query (submitted, oldest first), page after page
    page = queue_page(QueueFilter())
    click.echo(_("待审核报告 %(n)s 份：", n=page.total))
    while True:
        for c in page.checkins:
            click.echo(f"  #{c.id} {c.task.label} {c.task.title} · {c.department.name} · {c.period}")
        if page.page >= page.pages:
            break
        page = queue_page(QueueFilter(page=page.page + 1))
    extensions = pending_extensions()
    tasks = tasks_by_id({e.task_id for e in extensions})
    click.echo(_("待审批延期申请 %(n)s 份：", n=len(extensions)))
    for e in extensions:
        click.echo(f"  #{e.id} {tasks[e.task_id].label} {e.old_due.isoformat()} → {e.new_due.isoformat()}：{e.reason}")
