// ruleforge docs: client-side search and filters over search-index.js (no network, no
// innerHTML: rule text only ever reaches the page as text).
(function () {
  'use strict';
  var data = window.RULEFORGE_INDEX;
  var table = document.getElementById('rules');
  if (!data || !table) { return; }
  var q = document.getElementById('q');
  var filters = {
    tactic: document.getElementById('f-tactic'),
    severity: document.getElementById('f-severity'),
    type: document.getElementById('f-type')
  };
  var proven = document.getElementById('f-proven');
  var count = document.getElementById('count');
  var rows = {};
  table.querySelectorAll('tbody tr[data-page]').forEach(function (tr) {
    rows[tr.getAttribute('data-page')] = tr;
  });
  var haystacks = data.rules.map(function (r) {
    return [r.name, r.rule_id, (r.tags || []).join(' '), (r.tactics || []).join(' '),
      (r.techniques || []).join(' '), (r.sources || []).join(' '), (r.fields || []).join(' ')]
      .join('\n').toLowerCase();
  });

  function matches(r, i, terms) {
    if (!terms.every(function (t) { return haystacks[i].indexOf(t) >= 0; })) { return false; }
    if (filters.tactic.value && (r.tactics || []).indexOf(filters.tactic.value) < 0) { return false; }
    if (filters.severity.value && r.severity !== filters.severity.value) { return false; }
    if (filters.type.value && r.type !== filters.type.value) { return false; }
    return !(proven.checked && !r.proven);
  }

  function apply() {
    var terms = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    data.rules.forEach(function (r, i) {
      var ok = matches(r, i, terms);
      var tr = rows[r.page];
      if (tr) { tr.hidden = !ok; }
      if (ok) { shown += 1; }
    });
    count.textContent = shown + ' of ' + data.rules.length + ' rules match.';
    var params = new URLSearchParams();
    if (q.value) { params.set('q', q.value); }
    Object.keys(filters).forEach(function (k) { if (filters[k].value) { params.set(k, filters[k].value); } });
    if (proven.checked) { params.set('proven', '1'); }
    try {
      history.replaceState(null, '', params.toString() ? '?' + params.toString() : location.pathname);
    } catch (e) { /* some browsers refuse it on file:// URLs; the search still works */ }
  }

  var params = new URLSearchParams(location.search);
  q.value = params.get('q') || '';
  Object.keys(filters).forEach(function (k) { filters[k].value = params.get(k) || ''; });
  proven.checked = params.get('proven') === '1';
  q.addEventListener('input', apply);
  Object.keys(filters).forEach(function (k) { filters[k].addEventListener('change', apply); });
  proven.addEventListener('change', apply);
  document.getElementById('search').addEventListener('submit', function (e) { e.preventDefault(); });
  apply();
}());
