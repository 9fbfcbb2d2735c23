// The dashboard chart: on-time and overdue completions per row, received as a line.
(function () {
  function draw() {
    var node = document.getElementById("dashboard-chart");
    var data = document.getElementById("dashboard-data");
    if (!node || !data || !window.echarts) return;
    var d = JSON.parse(data.textContent);
    var chart = window.echarts.init(node);
    var labels = { received: "收件", on_time: "按时办结", late: "逾期办结" };
    if (document.documentElement.lang && document.documentElement.lang.indexOf("en") === 0) {
      labels = { received: "Received", on_time: "On time", late: "Overdue" };
    }
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 16, bottom: 60, top: 36 },
      xAxis: { type: "category", data: d.labels, axisLabel: { rotate: d.labels.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: labels.on_time, type: "bar", stack: "done", data: d.series.on_time, itemStyle: { color: "#2e7d32" } },
        { name: labels.late, type: "bar", stack: "done", data: d.series.late, itemStyle: { color: "#c62828" } },
        { name: labels.received, type: "line", data: d.series.received, itemStyle: { color: "#1565c0" } }
      ]
    });
    node.setAttribute("data-rendered", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
