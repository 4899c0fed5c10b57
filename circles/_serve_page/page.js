/* circles serve: the scenario editor.  Talks only to the JSON API of the server that sent it.
   User text (facility names, districts, unit names) is always put in the page with textContent, never innerHTML. */
(function () {
  'use strict';

  var CONFIG = window.CIRCLES_CONFIG || {lang: 'zh'};
  var POLL_MS = 2500;

  var STRINGS = {
    zh: {
      title: '设施情景编辑', category: '设施类别', site_name: '名称（可选）', add_site: '在地图上添加',
      add_armed: '点击地图放置…（再点此按钮结束）', undo: '撤销', reset: '全部重置', reset_confirm: '确认重置？',
      circles: '各生活圈覆盖人口', circle: '生活圈', before: '编辑前', after: '编辑后', change: '变化',
      summary_note: '覆盖人口与占比；“无数据”表示缺少该圈所需的某类设施，无法测算（不是 0%）。点击一行查看分区。',
      districts: '分区情况', district: '分区', people: '人口', download_csv: '下载 scenario.csv',
      export: '导出成果文件', exporting: '正在导出，请稍候…', exported: '已写入文件夹：', no_data: '无数据',
      edits: '{n} 处修改', no_edits: '尚无修改',
      hint_add: '点击道路附近放置新的“{cat}”。', hint_move: '点击地图选择“{name}”的新位置（Esc 取消）。',
      hint_idle: '点击设施可关闭或移动；新增的设施可直接拖动。',
      existing: '现有', added: '新增', moved: '已移动', closed: '已关闭', streets: '步行道路',
      close: '关闭设施', remove: '删除', move: '移动', closed_note: '已关闭（可撤销）', id: '编号',
      coverage: '覆盖状态', facilities: '设施', added_ok: '已添加 {id}', closed_ok: '已关闭 {id}',
      removed_ok: '已删除 {id}', moved_ok: '已移动 {id}', undone: '已撤销上一步', nothing_to_undo: '没有可撤销的修改',
      reset_ok: '已恢复到原始设施', error: '出错：', walk: '步行', drive: '车行', all: '全部人口',
      '65plus': '65 岁及以上', needs: '所需设施', unnamed: '（未命名）', population: '人口', status: '状态',
      was: '原为', measurable: '可测算', lang_button: 'English', map_label: '地图', units: '统计单元'
    },
    en: {
      title: 'Scenario editor', category: 'Category', site_name: 'Name (optional)', add_site: 'Add on the map',
      add_armed: 'Click the map to place… (click here to stop)', undo: 'Undo', reset: 'Reset all',
      reset_confirm: 'Really reset?', circles: 'Covered people per circle', circle: 'Circle', before: 'Before',
      after: 'After', change: 'Change',
      summary_note: 'Covered people and share; “no data” means a facility category the circle needs has no site, ' +
        'so it cannot be measured (it is not 0 %). Click a row for its districts.',
      districts: 'By district', district: 'District', people: 'People', download_csv: 'Download scenario.csv',
      export: 'Export outputs', exporting: 'Exporting, please wait…', exported: 'Written to the folder:',
      no_data: 'no data', edits: '{n} edit(s)', no_edits: 'no edits yet',
      hint_add: 'Click near a street to place a new “{cat}”.',
      hint_move: 'Click the map for the new place of “{name}” (Esc cancels).',
      hint_idle: 'Click a facility to close or move it; drag an added site to move it.',
      existing: 'existing', added: 'added', moved: 'moved', closed: 'closed', streets: 'streets (walk network)',
      close: 'Close', remove: 'Remove', move: 'Move', closed_note: 'closed (undo brings it back)', id: 'id',
      coverage: 'Coverage', facilities: 'Facilities', added_ok: 'Added {id}', closed_ok: 'Closed {id}',
      removed_ok: 'Removed {id}', moved_ok: 'Moved {id}', undone: 'Last edit undone',
      nothing_to_undo: 'Nothing to undo', reset_ok: 'Back to the original facilities', error: 'Error: ',
      walk: 'walk', drive: 'drive', all: 'all residents', '65plus': 'aged 65+', needs: 'needs',
      unnamed: '(no name)', population: 'People', status: 'Status', was: 'was', measurable: 'measured now', lang_button: '中文',
      map_label: 'map', units: 'units'
    }
  };

  var S = {
    lang: CONFIG.lang === 'en' ? 'en' : 'zh',
    meta: null, summary: null, facilities: [], unitStatus: null, version: -1, circle: null,
    addMode: false, moveTarget: null, statusColour: {}, statusLabel: {}, categories: {}, loading: 0, seq: 0, unitSeq: 0,
    nEdits: 0
  };

  function t(key, vars) {
    var s = (STRINGS[S.lang] && STRINGS[S.lang][key]) || STRINGS.en[key] || key;
    Object.keys(vars || {}).forEach(function (k) { s = s.split('{' + k + '}').join(String(vars[k])); });
    return s;
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'className') { e.className = attrs[k]; } else if (k === 'style') { e.style.cssText = attrs[k]; }
      else { e.setAttribute(k, attrs[k]); }
    });
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  // ------------------------------------------------------------------ numbers
  function locale() { return S.lang === 'zh' ? 'zh-CN' : 'en-GB'; }
  function people(v) { return Math.round(v).toLocaleString(locale()); }
  function pct(v) { return (v * 100).toFixed(1) + '%'; }
  function signed(v, digits) {
    var r = Number(v.toFixed(digits));
    return (r > 0 ? '+' : r < 0 ? '−' : '±') +
      Math.abs(r).toLocaleString(locale(), {minimumFractionDigits: digits, maximumFractionDigits: digits});
  }
  function noData() { return el('span', {className: 'nodata'}, t('no_data')); }
  function valueCell(cls, covered, share) {
    var td = el('td', {className: cls, 'data-value': covered === null ? 'null' : String(covered)});
    if (covered === null) { td.appendChild(noData()); return td; }
    td.appendChild(document.createTextNode(people(covered)));
    if (share !== null && share !== undefined) { td.appendChild(el('span', {className: 'share'}, pct(share))); }
    return td;
  }
  function changeCell(before, after, shareBefore, shareAfter) {
    var td = el('td', {className: 'change'});
    if (after === null || before === null) {
      td.appendChild(el('span', {className: after === null ? 'same' : 'gain'},
        after === null || before !== null ? '—' : t('measurable')));
      return td;
    }
    var d = after - before;
    var cls = Math.abs(d) < 0.5 ? 'same' : (d > 0 ? 'gain' : 'loss');
    td.appendChild(el('span', {className: cls}, Math.abs(d) < 0.5 ? '±0' : signed(d, 0)));
    if (shareBefore !== null && shareAfter !== null && Math.abs(d) >= 0.5) {
      td.appendChild(el('span', {className: 'share'}, signed((shareAfter - shareBefore) * 100, 1) + ' pp'));
    }
    return td;
  }

  // ------------------------------------------------------------------ API
  function api(method, path, body) {
    var opts = {method: method, headers: {'Accept': 'application/json'}, credentials: 'same-origin'};
    if (method !== 'GET') {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body || {});
    }
    S.loading += 1;
    document.body.dataset.busy = 'true';
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!r.ok) { throw new Error((data && data.error) || (r.status + ' ' + r.statusText)); }
        return data;
      });
    }).finally(function () {
      S.loading -= 1;
      if (S.loading === 0) { document.body.dataset.busy = 'false'; }
    });
  }
  function say(text, kind) {
    var m = $('message');
    m.textContent = text || '';
    m.className = text ? (kind || 'ok') : '';
  }
  function fail(err) { say(t('error') + (err && err.message ? err.message : String(err)), 'error'); }

  // ------------------------------------------------------------------ map
  var map = L.map('map', {preferCanvas: true, zoomSnap: 0.25, attributionControl: false, boxZoom: false});
  var streetsPane = map.createPane('streets');  // above the unit colours, below facilities
  streetsPane.style.zIndex = 420;
  streetsPane.style.pointerEvents = 'none';
  map.createPane('facilities').style.zIndex = 450;
  map.createPane('marks').style.zIndex = 460;
  var facilityRenderer = L.canvas({pane: 'facilities', padding: 0.3});
  var unitsLayer = null;
  var facilityLayer = L.layerGroup().addTo(map);
  var addedLayer = L.layerGroup().addTo(map);
  var markerById = {};
  L.control.scale({imperial: false}).addTo(map);
  var legend = L.control({position: 'bottomleft'});
  legend.onAdd = function () { var d = el('div', {className: 'legend', id: 'legend'}); L.DomEvent.disableClickPropagation(d); return d; };
  legend.addTo(map);

  function catColour(cat) { return (S.categories[cat] && S.categories[cat].colour) || '#303030'; }
  function catLabel(cat) { return (S.categories[cat] && S.categories[cat][S.lang]) || cat; }
  function circleMeta(id) { return S.meta.circles.filter(function (c) { return c.id === id; })[0]; }
  function circleName(c) { return S.lang === 'zh' ? c.name_zh : c.name_en; }

  function unitStyle(feature) {
    var i = feature.properties.i;
    var st = S.unitStatus ? S.unitStatus.status[i] : 'empty';
    var was = S.unitStatus ? S.unitStatus.status_before[i] : st;
    var changed = st !== was && was !== 'no_data';  // from "no data" everything changes: no outline
    return {
      fillColor: S.statusColour[st] || '#d9d9d9', fillOpacity: st === 'empty' ? 0.35 : 0.62,
      color: changed ? '#111111' : '#ffffff', weight: changed ? 2.2 : 0.7, opacity: 0.9,
      dashArray: st === 'no_data' ? '3 3' : null, radius: 3
    };
  }
  function unitTip(layer) {
    var p = layer.feature.properties;
    var box = el('div', {className: 'unit-tip'});
    box.appendChild(el('b', {}, p.name || p.unit_id || ''));
    if (p.district) { box.appendChild(el('div', {}, t('district') + ': ' + p.district)); }
    if (p.population !== null) { box.appendChild(el('div', {}, t('population') + ': ' + people(p.population))); }
    if (S.unitStatus) {
      var st = S.unitStatus.status[p.i], was = S.unitStatus.status_before[p.i];
      var line = t('status') + ': ' + (S.statusLabel[st] || st);
      if (st !== was) { line += ' (' + t('was') + ' ' + (S.statusLabel[was] || was) + ')'; }
      box.appendChild(el('div', {}, line));
    }
    return box;
  }
  function drawUnits(fc) {
    var interactive = !S.meta.point_units;
    unitsLayer = L.geoJSON(fc, {
      style: unitStyle, interactive: interactive,
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 3, interactive: false}); }
    }).addTo(map);
    if (interactive) { unitsLayer.bindTooltip(unitTip, {sticky: true, direction: 'top', opacity: 0.95}); }
  }
  function restyleUnits() { if (unitsLayer) { unitsLayer.setStyle(unitStyle); } }

  function popupFor(f) {
    var box = el('div', {className: 'popup', 'data-fid': f.id});
    box.appendChild(el('h4', {}, f.name || t('unnamed')));
    var meta = el('div', {className: 'meta'});
    meta.appendChild(el('span', {className: 'pcat'}, catLabel(f.category)));
    meta.appendChild(document.createTextNode(' · '));
    meta.appendChild(el('span', {className: 'pstate state-' + f.state}, t(f.state)));
    meta.appendChild(el('div', {className: 'pid'}, t('id') + ': ' + f.id));
    box.appendChild(meta);
    if (f.state === 'closed') {
      box.appendChild(el('div', {className: 'state-closed'}, t('closed_note')));
      return box;
    }
    var actions = el('div', {className: 'actions'});
    var close = el('button', {type: 'button', 'data-action': 'close', className: 'warn'},
      f.state === 'added' ? t('remove') : t('close'));
    var move = el('button', {type: 'button', 'data-action': 'move'}, t('move'));
    close.addEventListener('click', function () { map.closePopup(); closeFacility(f); });
    move.addEventListener('click', function () { map.closePopup(); armMove(f); });
    actions.appendChild(close);
    actions.appendChild(move);
    box.appendChild(actions);
    return box;
  }
  // zoomed out over a whole city, small dots leave the unit colours visible
  function facilityRadius(f) { return (f.state === 'moved' ? 1.5 : 0) + (map.getZoom() < 13 ? 2.5 : 5.5); }
  map.on('zoomend', function () {
    facilityLayer.eachLayer(function (m) { if (m.setRadius && m.facility) { m.setRadius(facilityRadius(m.facility)); } });
  });
  function drawFacilities() {
    facilityLayer.clearLayers();
    addedLayer.clearLayers();
    markerById = {};
    S.facilities.forEach(function (f) {
      var ll = [f.lat, f.lon];
      var m;
      if (f.state === 'added') {
        var icon = L.divIcon({className: '', iconSize: [20, 20], iconAnchor: [10, 10], popupAnchor: [0, -10],
          html: ''});
        m = L.marker(ll, {icon: icon, draggable: true, pane: 'marks', keyboard: false, bubblingMouseEvents: false});
        m.on('add', function () {
          var node = m.getElement();
          if (!node) { return; }
          var dot = el('div', {className: 'site-added', 'data-fid': f.id, 'data-category': f.category});
          dot.style.background = catColour(f.category);
          clear(node);
          node.appendChild(dot);
          node.setAttribute('data-fid', f.id);
        });
        m.on('dragend', function () { var p = m.getLatLng(); moveFacility(f, p.lat, p.lng); });
        m.addTo(addedLayer);
      } else {
        var closed = f.state === 'closed';
        m = L.circleMarker(ll, {
          renderer: facilityRenderer, radius: facilityRadius(f), bubblingMouseEvents: false,
          fillColor: closed ? '#bdbdbd' : catColour(f.category), fillOpacity: closed ? 0.7 : 0.95,
          color: closed ? '#555555' : (f.state === 'moved' ? '#111111' : '#ffffff'),
          weight: f.state === 'moved' ? 2.5 : 1.2, dashArray: closed ? '2 2' : null
        }).addTo(facilityLayer);
        m.facility = f;
        if (closed) {
          L.marker(ll, {pane: 'marks', interactive: false, keyboard: false,
            icon: L.divIcon({className: 'closed-x', iconSize: [14, 14], iconAnchor: [7, 7], html: '×'})})
            .addTo(facilityLayer);
        }
      }
      m.bindPopup(function () { return popupFor(f); }, {minWidth: 180});
      markerById[f.id] = m;
    });
  }

  function drawLegend() {
    var box = $('legend');
    clear(box);
    box.appendChild(el('h3', {}, t('coverage')));
    S.meta.statuses.forEach(function (s) {
      var item = el('div', {className: 'item', 'data-status': s.id});
      var sw = el('span', {className: 'sw'});
      sw.style.background = s.id === 'no_data'
        ? 'repeating-linear-gradient(45deg,' + s.colour + ' 0 4px,#fff 4px 6px)' : s.colour;
      item.appendChild(sw);
      item.appendChild(el('span', {}, s[S.lang]));
      box.appendChild(item);
    });
    box.appendChild(el('div', {className: 'sep'}));
    box.appendChild(el('h3', {}, t('facilities')));
    [['existing', '#6b7280', '#fff'], ['added', '#6b7280', '#111'], ['moved', '#6b7280', '#111'],
      ['closed', '#bdbdbd', '#555']].forEach(function (row) {
      var item = el('div', {className: 'item'});
      var dot = el('span', {className: 'dot'});
      dot.style.background = row[1];
      dot.style.boxShadow = '0 0 0 ' + (row[0] === 'existing' ? '1px' : '2px') + ' ' + row[2];
      item.appendChild(dot);
      item.appendChild(el('span', {}, t(row[0])));
      box.appendChild(item);
    });
    if (S.streets) {
      var line = el('div', {className: 'item', 'data-layer': 'streets'});
      var sw = el('span', {className: 'sw'});
      sw.style.background = 'linear-gradient(transparent 45%, #5f5f5f 45%, #5f5f5f 60%, transparent 60%)';
      line.appendChild(sw);
      line.appendChild(el('span', {}, t('streets')));
      box.appendChild(el('div', {className: 'sep'}));
      box.appendChild(line);
    }
  }

  // ------------------------------------------------------------------ panel
  function renderSummary() {
    var body = document.querySelector('#summary-table tbody');
    clear(body);
    S.summary.circles.forEach(function (c) {
      var m = circleMeta(c.circle);
      var tr = el('tr', {'data-circle': c.circle});
      if (c.circle === S.circle) { tr.className = 'active'; }
      var name = el('td', {});
      name.appendChild(el('span', {className: 'cname'}, m ? circleName(m) : c.circle));
      if (c.no_data && c.no_data.length) {
        name.appendChild(el('span', {className: 'csub'},
          t('needs') + ': ' + c.no_data.map(catLabel).join(S.lang === 'zh' ? '、' : ', ')));
      }
      tr.appendChild(name);
      tr.appendChild(valueCell('before', c.covered_population_before, c.covered_share_before));
      tr.appendChild(valueCell('after', c.covered_population, c.covered_share));
      tr.appendChild(changeCell(c.covered_population_before, c.covered_population, c.covered_share_before,
        c.covered_share));
      tr.addEventListener('click', function () { selectCircle(c.circle); });
      body.appendChild(tr);
    });
    $('edit-count').textContent = S.nEdits ? t('edits', {n: S.nEdits}) : t('no_edits');
    renderDistricts();
  }
  function renderDistricts() {
    var body = document.querySelector('#district-table tbody');
    clear(body);
    if (!S.summary) { return; }
    S.summary.districts.filter(function (d) { return d.circle === S.circle; }).forEach(function (d) {
      var tr = el('tr', {'data-district': d.district});
      tr.appendChild(el('td', {}, d.district));
      tr.appendChild(el('td', {className: 'people'}, people(d.population)));
      tr.appendChild(valueCell('before', d.covered_population_before, d.covered_share_before));
      tr.appendChild(valueCell('after', d.covered_population, d.covered_share));
      tr.appendChild(changeCell(d.covered_population_before, d.covered_population, d.covered_share_before,
        d.covered_share));
      body.appendChild(tr);
    });
    var c = circleMeta(S.circle);
    if (c) {
      $('circle-info').textContent = [t(c.mode) + ' ' + c.threshold, t(c.population),
        t('needs') + ': ' + c.categories.map(catLabel).join(S.lang === 'zh' ? '、' : ', ')].join(' · ');
    }
  }
  function fillSelects() {
    var cs = $('category-select'), keep = cs.value;
    clear(cs);
    var order = S.meta.circles.map(function (c) { return c.id; });
    var rank = function (c) { return Math.min.apply(null, c.circles.map(function (id) { return order.indexOf(id); })); };
    S.meta.categories.filter(function (c) { return c.addable; }).sort(function (a, b) {
      return rank(a) - rank(b) || (a.id < b.id ? -1 : 1);
    }).forEach(function (c) {
      var names = c.circles.map(function (id) { var m = circleMeta(id); return m ? circleName(m) : id; });
      cs.appendChild(el('option', {value: c.id}, c[S.lang] + ' — ' + names.join(', ')));
    });
    if (keep) { cs.value = keep; } else { preferCategoryOf(S.circle); }
    var sel = $('circle-select');
    clear(sel);
    S.meta.circles.forEach(function (c) { sel.appendChild(el('option', {value: c.id}, circleName(c))); });
    sel.value = S.circle;
  }
  function applyLanguage() {
    document.documentElement.lang = S.lang === 'zh' ? 'zh-CN' : 'en';
    Array.prototype.forEach.call(document.querySelectorAll('[data-i18n]'), function (e) {
      e.textContent = t(e.getAttribute('data-i18n'));
    });
    document.title = t('title') + ' · circles';
    $('lang-toggle').textContent = t('lang_button');
    $('map').setAttribute('aria-label', t('map_label'));
    S.statusLabel = {};
    S.meta.statuses.forEach(function (s) { S.statusLabel[s.id] = s[S.lang]; });
    fillSelects();
    drawLegend();
    updateModeUi();
    if (S.summary) { renderSummary(); }
    map.closePopup();
  }
  function updateModeUi() {
    var add = $('add-mode');
    add.setAttribute('aria-pressed', S.addMode ? 'true' : 'false');
    add.textContent = S.addMode ? t('add_armed') : t('add_site');
    var armed = S.addMode || S.moveTarget;
    $('map').classList.toggle('armed', !!armed);
    var hint;
    if (S.moveTarget) { hint = t('hint_move', {name: S.moveTarget.name || S.moveTarget.id}); }
    else if (S.addMode) { hint = t('hint_add', {cat: catLabel($('category-select').value)}); }
    else { hint = t('hint_idle'); }
    $('hint').textContent = hint;
    document.body.dataset.mode = S.moveTarget ? 'move' : (S.addMode ? 'add' : 'browse');
  }

  // ------------------------------------------------------------------ loading
  function loadAll(summary) {
    var seq = ++S.seq, circle = S.circle, unitSeq = S.unitSeq;
    var asked = [summary ? Promise.resolve(summary) : api('GET', '/api/summary'), api('GET', '/api/facilities'),
      api('GET', '/api/units/' + encodeURIComponent(circle))];
    return Promise.all(asked).then(function (got) {
      if (seq !== S.seq) { return; }  // a newer load started: it will draw
      S.summary = got[0];
      S.facilities = got[1].facilities;
      S.nEdits = got[1].n_edits;
      if (S.circle === circle && S.unitSeq === unitSeq) { S.unitStatus = got[2]; }
      S.version = Math.max(got[0].version, got[1].version, got[2].version);
      renderSummary();
      drawFacilities();
      restyleUnits();
      document.body.dataset.version = String(S.version);
    });
  }
  function poll() {
    if (document.hidden || S.loading) { return; }
    api('GET', '/api/summary').then(function (s) {
      if (s.version !== S.version) { return loadAll(s); }
    }).catch(function () { /* the server may be restarting: the next poll tries again */ });
  }
  function preferCategoryOf(circleId) {
    // unless the planner chose a category, offer one the active circle counts (first a missing one)
    var cs = $('category-select');
    if (cs.dataset.chosen) { return; }
    var c = circleMeta(circleId);
    var row = S.summary && S.summary.circles.filter(function (x) { return x.circle === circleId; })[0];
    var wanted = (row && row.no_data && row.no_data.length ? row.no_data : (c ? c.categories : []))
      .filter(function (cat) { return S.categories[cat] && S.categories[cat].addable; })[0];
    if (wanted) { cs.value = wanted; updateModeUi(); }
  }
  function selectCircle(id) {
    S.circle = id;
    preferCategoryOf(id);
    $('circle-select').value = id;
    var seq = ++S.unitSeq;
    return api('GET', '/api/units/' + encodeURIComponent(id)).then(function (st) {
      if (seq !== S.unitSeq || S.circle !== id) { return; }
      S.unitStatus = st;
      restyleUnits();
      renderSummary();
    }).catch(fail);
    renderSummary();
  }

  // ------------------------------------------------------------------ edits
  function edited(okText) {
    return function (res) {
      say(okText, 'ok');
      return loadAll(res.summary);
    };
  }
  function addAt(latlng) {
    var cat = $('category-select').value;
    var name = $('site-name').value.trim();
    api('POST', '/api/facilities', {category: cat, lon: latlng.lng, lat: latlng.lat, crs: 'wgs84', name: name})
      .then(function (res) { $('site-name').value = ''; return edited(t('added_ok', {id: res.id}))(res); })
      .catch(fail);
  }
  function closeFacility(f) {
    api('DELETE', '/api/facilities/' + encodeURIComponent(f.id))
      .then(edited(t(f.state === 'added' ? 'removed_ok' : 'closed_ok', {id: f.id}))).catch(fail);
  }
  function moveFacility(f, lat, lon) {
    api('POST', '/api/facilities/' + encodeURIComponent(f.id) + '/move', {lon: lon, lat: lat, crs: 'wgs84'})
      .then(edited(t('moved_ok', {id: f.id})))
      .catch(function (err) { fail(err); loadAll(); });  // put a dragged marker back where the server has it
  }
  function armMove(f) {
    S.moveTarget = f;
    S.addMode = false;
    updateModeUi();
  }
  map.on('click', function (e) {
    if (S.moveTarget) {
      var f = S.moveTarget;
      S.moveTarget = null;
      updateModeUi();
      moveFacility(f, e.latlng.lat, e.latlng.lng);
    } else if (S.addMode) {
      addAt(e.latlng);
    }
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && (S.moveTarget || S.addMode)) { S.moveTarget = null; S.addMode = false; updateModeUi(); }
  });

  function wireButtons() {
    $('add-mode').addEventListener('click', function () {
      S.addMode = !S.addMode;
      S.moveTarget = null;
      updateModeUi();
    });
    $('category-select').addEventListener('change', function () {
      $('category-select').dataset.chosen = 'true';
      updateModeUi();
    });
    $('circle-select').addEventListener('change', function () { selectCircle($('circle-select').value); });
    $('undo').addEventListener('click', function () {
      api('POST', '/api/undo', {}).then(function (res) {
        return edited(res.undone ? t('undone') : t('nothing_to_undo'))(res);
      }).catch(fail);
    });
    var resetTimer = null;
    $('reset').addEventListener('click', function () {
      var b = $('reset');
      if (!resetTimer) {  // first click arms, the second within 4 s resets
        b.textContent = t('reset_confirm');
        b.classList.add('warn');
        resetTimer = setTimeout(function () {
          resetTimer = null; b.classList.remove('warn'); b.textContent = t('reset');
        }, 4000);
        return;
      }
      clearTimeout(resetTimer);
      resetTimer = null;
      b.classList.remove('warn');
      b.textContent = t('reset');
      api('POST', '/api/reset', {}).then(edited(t('reset_ok'))).catch(fail);
    });
    $('export').addEventListener('click', function () {
      var b = $('export'), out = $('export-result');
      b.disabled = true;
      out.textContent = t('exporting');
      api('POST', '/api/export', {}).then(function (res) {
        clear(out);
        out.appendChild(el('div', {}, t('exported')));
        out.appendChild(el('code', {id: 'export-folder'}, res.folder));
        var names = Object.keys(res.files).map(function (k) { return res.files[k]; });
        out.appendChild(el('div', {id: 'export-files'}, names.join(', ')));
      }).catch(function (err) { out.textContent = ''; fail(err); })
        .finally(function () { b.disabled = false; });
    });
    $('lang-toggle').addEventListener('click', function () {
      S.lang = S.lang === 'zh' ? 'en' : 'zh';
      applyLanguage();
    });
    window.addEventListener('focus', poll);
    document.addEventListener('visibilitychange', function () { if (!document.hidden) { poll(); } });
  }

  // hooks for tests and for the curious: where a facility or a position is on the screen
  window.circlesApp = {
    map: map, state: S,
    screenPoint: function (lat, lon) {
      var p = map.latLngToContainerPoint([lat, lon]), r = $('map').getBoundingClientRect();
      return {x: r.left + p.x, y: r.top + p.y};
    },
    facilityPoint: function (id) {
      var f = S.facilities.filter(function (x) { return x.id === id; })[0];
      return f ? window.circlesApp.screenPoint(f.lat, f.lon) : null;
    }
  };

  Promise.all([api('GET', '/api/meta'), api('GET', '/api/units.geojson')]).then(function (got) {
    S.meta = got[0];
    S.meta.categories.forEach(function (c) { S.categories[c.id] = c; });
    S.meta.statuses.forEach(function (s) { S.statusColour[s.id] = s.colour; });
    var measurable = S.meta.circles[0].id;
    S.circle = measurable;
    map.fitBounds(S.meta.bounds, {padding: [12, 12]});
    drawUnits(got[1]);
    api('GET', '/api/streets.geojson').then(function (fc) {  // a backdrop: where the streets are
      L.geoJSON(fc, {pane: 'streets', interactive: false,
        style: {color: '#5f5f5f', weight: 0.8, opacity: 0.55}}).addTo(map);
      S.streets = fc.features.length > 0;
      drawLegend();
    }).catch(fail);
    applyLanguage();
    wireButtons();
    return loadAll().then(function () {
      // open on the first circle that can be measured, so the map shows colours rather than "no data"
      var first = S.summary.circles.filter(function (c) { return c.covered_population !== null; })[0];
      var shown = first && first.circle !== S.circle ? selectCircle(first.circle) : Promise.resolve();
      setInterval(poll, POLL_MS);
      return shown.then(function () { document.body.dataset.ready = 'true'; });
    });
  }).catch(fail);
})();
