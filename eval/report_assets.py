"""The inline stylesheet and filter script of the HTML reports (kept apart from the markup code)."""

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:0;
 color:#1d1d1f;background:#f6f7f9}
main{max-width:1360px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:24px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #ddd;
 padding-bottom:4px}
.meta{color:#555;font-size:13px;margin:0 0 12px}.meta code{background:#eceff3;padding:1px 4px;border-radius:3px}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#fff;border:1px solid #e1e4e8;border-radius:8px;
 padding:10px 14px;min-width:120px}.card b{display:block;font-size:22px}.card span{color:#666;font-size:12px}
table{border-collapse:collapse;background:#fff;font-size:13px}th,td{border:1px solid #e1e4e8;padding:5px 8px;
 text-align:left;vertical-align:top}th{background:#f0f2f5}#questions th{position:sticky;top:0;z-index:1}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.desc{color:#666;font-size:12px}
.banner{padding:10px 14px;border-radius:6px;font-weight:600;margin:8px 0}
.bad{background:#fde8e8;color:#9b1c1c;border:1px solid #f5b5b5}.good{background:#e6f4ea;color:#1e6b35;
 border:1px solid #b6dfc1}
tr.regressed td{background:#fdf0f0}.up{color:#1e6b35}.down{color:#b42318}
.charts{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:14px}.wide{grid-column:span 2}
@media (max-width:1100px){.charts{grid-template-columns:minmax(0,1fr)}.wide{grid-column:auto}}
figure{margin:0;background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:8px}
figure svg{max-width:100%;height:auto}figcaption{color:#666;font-size:12px;margin-top:4px}
.controls{display:flex;gap:10px;align-items:center;margin:8px 0;flex-wrap:wrap}
.controls input{padding:6px 8px;width:360px;border:1px solid #bbb;border-radius:4px}
.controls select{padding:5px}#filter-count{color:#555;font-size:13px}
#questions td{max-width:420px}#questions td:nth-child(-n+2){white-space:nowrap}.clip{max-height:9em;overflow:auto;white-space:pre-wrap;word-break:break-word}
.pill{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;font-weight:600}
.pass{background:#e6f4ea;color:#1e6b35}.fail{background:#fde8e8;color:#9b1c1c}
.flip{background:#fff4d6;color:#8a5a00}.tag{background:#eceff3;color:#444;font-weight:400}
ul.cites,ul.plain{margin:0;padding-left:16px}ul.cites li{margin-bottom:4px}.doc{color:#555;font-size:12px}
.side{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}.flips{flex:1;min-width:360px}
.flips h3{font-size:15px;margin:0 0 6px}.flips ul{margin-bottom:14px}
.ok{color:#1e6b35}.no{color:#b42318}.small{font-size:12px;color:#666}
.ci{font-size:11px;color:#777;white-space:nowrap}.card i{display:block;font-style:normal;font-size:12px;color:#666}
"""

SCRIPT = """
(function(){
 var box=document.getElementById('filter-text'),status=document.getElementById('filter-status'),
  lang=document.getElementById('filter-lang'),count=document.getElementById('filter-count');
 var rows=Array.prototype.slice.call(document.querySelectorAll('#questions tbody tr'));
 var texts=rows.map(function(r){return r.textContent.toLowerCase();});
 function apply(){
  var terms=box.value.toLowerCase().split(/\\s+/).filter(Boolean),s=status.value,l=lang.value,shown=0;
  rows.forEach(function(r,i){
   var ok=terms.every(function(t){return texts[i].indexOf(t)>=0;})
    &&(s==='all'||r.getAttribute('data-status')===s||(s==='flipped'&&r.getAttribute('data-flip')))
    &&(l==='all'||r.getAttribute('data-lang')===l);
   r.hidden=!ok;if(ok){shown++;}
  });
  count.textContent=shown+' of '+rows.length+' questions shown';
 }
 [box,status,lang].forEach(function(e){e.addEventListener('input',apply);e.addEventListener('change',apply);});
 apply();
})();
"""
