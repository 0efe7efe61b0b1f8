"""Sphinx configuration of the course book (`make book`); book/build.py stages the sources next to a copy of it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # lab_link.py lies next to this file

project = "Recurrent Neural Networks, hands on"
author = "the RNN course"
copyright = "the RNN course authors"

extensions = ["myst_nb", "sphinx-mathjax-offline", "lab_link"]
master_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type"]

# the stored outputs are the content: never execute a notebook
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "html_image"]
myst_heading_anchors = 3
myst_dmath_double_inline = True      # "$$...$$" inside a paragraph, as JupyterLab renders it (exercise 4 has one)

# MathJax 3 comes from sphinx-mathjax-offline (copied into _static/mathjax). MyST turns `$...$` into math nodes; MathJax
# also typesets `$...$` and `\(...\)` left in raw HTML (a <details> answer written without blank lines), but never in
# code or cell outputs. myst_update_mathjax = False keeps MyST from marking whole sections "ignore" for MathJax.
myst_update_mathjax = False
mathjax3_config = {
    "tex": {"inlineMath": [["$", "$"], ["\\(", "\\)"]], "displayMath": [["$$", "$$"], ["\\[", "\\]"]],
            "processEscapes": True},
    "options": {"ignoreHtmlClass": "tex2jax_ignore|mathjax_ignore|highlight|output",
                "processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"},
}

html_theme = "sphinx_book_theme"
html_title = project
html_sourcelink_suffix = ""          # the download button serves the .ipynb itself
html_copy_source = True
html_static_path = ["static"]
html_css_files = ["cjk.css", "code.css"]
html_theme_options = {
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
}
html_context = {"default_mode": "auto"}   # without it the theme logs "invalid theme mode" on a first visit

# "Open in JupyterLab" points at the server that `make lab` starts; BOOK_LAB_URL changes it (a JupyterHub, say).
lab_url = os.environ.get("BOOK_LAB_URL", "http://localhost:8888/lab/tree")
lab_renamed_sources = {"index.md": "README.md"}   # book/build.py stages the README as the home page
