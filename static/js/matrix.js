// Pillarwise: drag-and-drop on the impact × effort matrix. An enhancement only: every
// finding also has a "Place on the matrix" form, and a drop simply fills in and submits it.
(function () {
  "use strict";
  let drag = null;
  let suppressClick = false;

  function geometry(svg) {
    const [x, y, w, h] = svg.dataset.plot.split(" ").map(Number);
    const [min, max] = svg.dataset.scale.split(" ").map(Number);
    return { x, y, w, h, min, max };
  }

  function svgPoint(svg, event) {
    const point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    return point.matrixTransform(svg.getScreenCTM().inverse());
  }

  function valuesAt(svg, p) {
    const g = geometry(svg);
    const span = g.max - g.min + 1;
    const clamp = (v) => Math.min(g.max, Math.max(g.min, Math.round(v)));
    return {
      effort: clamp(g.min - 0.5 + ((p.x - g.x) / g.w) * span),
      impact: clamp(g.min - 0.5 + ((g.y + g.h - p.y) / g.h) * span),
    };
  }

  document.addEventListener("pointerdown", function (event) {
    const point = event.target.closest(".matrix-point");
    const svg = point && point.ownerSVGElement;
    if (!svg || !svg.dataset.plot || event.button !== 0) return;
    event.preventDefault();
    drag = { point, svg, start: svgPoint(svg, event), moved: false };
    point.setPointerCapture(event.pointerId);
    point.style.cursor = "grabbing";
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag) return;
    const p = svgPoint(drag.svg, event);
    const dx = p.x - drag.start.x;
    const dy = p.y - drag.start.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    drag.point.setAttribute("transform", `translate(${dx} ${dy})`);
  });

  function finish(event, cancelled) {
    if (!drag) return;
    const { point, svg, moved } = drag;
    drag = null;
    point.style.cursor = "grab";
    if (!moved || cancelled) {
      point.removeAttribute("transform");
      return;
    }
    suppressClick = true;
    const values = valuesAt(svg, svgPoint(svg, event));
    const form = document.getElementById("move-" + point.dataset.key);
    if (!form) {
      point.removeAttribute("transform");
      return;
    }
    form.elements.impact.value = String(values.impact);
    form.elements.effort.value = String(values.effort);
    point.style.opacity = "0.6";
    form.requestSubmit();
  }

  document.addEventListener("pointerup", (event) => finish(event, false));
  document.addEventListener("pointercancel", (event) => finish(event, true));
  // A drag ends with a click on the point's link: that click must not follow it.
  document.addEventListener("click", function (event) {
    if (suppressClick && event.target.closest(".matrix-point")) {
      event.preventDefault();
    }
    suppressClick = false;
  }, true);
})();
