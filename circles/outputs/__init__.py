"""Everything circles writes for people to read: files, maps, figures.

Nothing is imported here, so ``import circles`` stays light (folium and
matplotlib load only when a map or figure is drawn).  The modules:

* :mod:`~circles.outputs.files` — a :class:`~circles.coverage.CoverageResult` to GeoPackage/CSV/Excel/HTML;
* :mod:`~circles.outputs.atomic` — atomic writers (temporary file, then rename);
* :mod:`~circles.outputs.coverage_map` and :mod:`~circles.outputs.score_map` — the offline HTML maps;
* :mod:`~circles.outputs.figures` — static PNG/PDF figures;
* :mod:`~circles.outputs.webmap`, :mod:`~circles.outputs.mapui`, :mod:`~circles.outputs.basemaps` — folium helpers;
* :mod:`~circles.outputs.palette` and :mod:`~circles.outputs.maptext` — one palette, one language.
"""
