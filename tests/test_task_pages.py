"""The task list and the task page, in Chinese, on the small invented plan."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_task_list_groups_measures_by_section_with_roles_and_due_dates(mini_plan, client: FlaskClient, login) -> None:
    login()
    page = client.get("/tasks").get_data(as_text=True)
    assert "测试市“十五五”示范方案" in page
    assert "三、重点工程" in page and "四、政策机制" in page
    assert page.index("三（一）") < page.index("三（一）1") < page.index("三（二）") < page.index("四（一）")
    assert "牵头" in page and "市交通运输局" in page
    assert "2027-06-30" in page
    assert "共 4 项措施" in page


def test_task_page_shows_text_departments_by_role_and_targets(mini_plan, client: FlaskClient, login) -> None:
    login()
    response = client.get("/tasks/3.1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "推广新能源公交车" in page
    assert "（市交通运输局、市发展改革委牵头，市生态环境局配合）" in page
    assert "新能源公交车占比" in page and "≥ 100 %" in page
    assert "2—3 个" in page
    assert "公交车更新" in page  # its sub-task


def test_unknown_task_gets_a_chinese_404_page(mini_plan, client: FlaskClient, login) -> None:
    login()
    response = client.get("/tasks/9.9")
    assert response.status_code == 404
    assert "没有编号为 9.9 的任务" in response.get_data(as_text=True)


def test_home_redirects_staff_to_the_task_list(mini_plan, client: FlaskClient, login) -> None:
    login("staff", "市交通运输局")
    assert client.get("/").headers["Location"].endswith(("/tasks", "/my"))


def test_pages_explain_when_no_plan_is_loaded(app, client: FlaskClient, login) -> None:
    login()
    response = client.get("/tasks")
    assert response.status_code == 404
    assert "plan load" in response.get_data(as_text=True)
