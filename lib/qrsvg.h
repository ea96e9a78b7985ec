/*
 * QR codes (libqrencode) drawn as an inline SVG element: one path of the dark modules
 * with a quiet zone, so a page can show one with no image service and no script.
 */
#ifndef SEKISHO_QRSVG_H
#define SEKISHO_QRSVG_H

/*
 * "<svg ... role=\"img\" aria-label=\"LABEL\">...</svg>" for text (8-bit mode, error
 * correction M), label HTML-escaped; NULL when text does not fit a QR code (caller frees).
 */
char *qr_svg(const char *text, const char *label);

#endif
