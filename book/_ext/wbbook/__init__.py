"""The book's machinery, kept beside the science library ``wbinterp``, not inside it.

* :mod:`wbbook.build`: ``python -m wbbook.build`` (what ``make book``, ``make book-student``
  and ``make pdf`` run): drops stale executed outputs when the package changes, then calls
  jupyter-book's own command line;
* :mod:`wbbook.site`: the Sphinx extension, which registers :mod:`wbbook.assets`
  (offline MathJax, the static files), :mod:`wbbook.notebooks` (notebooks to run on
  Colab or anywhere) and :mod:`wbbook.edition` (the student edition), and fixes pages;
* :mod:`wbbook.assignments`: the course in a box (otter-grader);
* :mod:`wbbook.lint`: checks on the chapters' code (hidden names, exercises, hidden share);
* :mod:`wbbook.browser`: a local HTTP server for a built site and Debian's Chromium;
* :mod:`wbbook.browser_check`: every page of the site opened in a real browser.
"""
