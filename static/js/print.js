// The receipt's print button: shown only where this script runs; without it the page says how to print.
for (const button of document.querySelectorAll(".print-button")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
