"""Every keyed widget keeps its value over page switches (issue 22, item 1). The browser walk in
test_app_researcher.py shows the bug on the Train form; this guard holds every page to the fix:
a keyed value widget without `persist_state="session"` loses its value on a page switch that
follows a fragment run (see the VIEW note in app/ui/frame.py)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VALUE_WIDGETS = {"multiselect", "selectbox", "number_input", "slider", "select_slider", "toggle", "checkbox",
                 "radio", "text_input", "text_area", "pills", "segmented_control", "date_input", "time_input",
                 "color_picker"}


def keyed_widgets_without_persist() -> list[str]:
    found = []
    for path in sorted([*ROOT.glob("app/**/*.py"), *ROOT.glob("pages/*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in VALUE_WIDGETS:
                kw = {k.arg: k.value for k in node.keywords}
                persist = kw.get("persist_state")
                if "key" in kw and not (isinstance(persist, ast.Constant) and persist.value == "session"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.attr}")
    return found


def test_every_keyed_widget_of_every_page_persists_for_the_session():
    assert keyed_widgets_without_persist() == []
