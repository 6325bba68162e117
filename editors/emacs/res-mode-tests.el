;;; res-mode-tests.el --- ERT tests of res-mode -*- lexical-binding: t -*-

;; Run headless from the repository root:
;;   emacs -batch -Q -l editors/emacs/res-mode.el -l editors/emacs/res-mode-tests.el \
;;         -f ert-run-tests-batch-and-exit

;;; Code:

(require 'ert)
(require 'res-mode)

(defconst res-tests--sample
  "// comments: TODO marked
/* a block comment with system and 250ms inside */
/* spanning
   two lines: fault 5% */ fault

import \"std/faults\" { slow_dependency, latency_spike as spike }
param peak_margin = 1.3x
data items from \"data/items.csv\" format csv order cycle

system shop {
  base env(\"SHOP_URL\")
  header \"Authorization\" = secret(\"SHOP_TOKEN\")
  timeout 5s
  service catalog {
    route GET \"/items/{items.id}?q={not interpolated\" expect status 2xx, 404
    route POST \"/c\" body json { \"item\": \"{items.id}\", \"qty\": 1, \"ok\": true, \"n\": null }
    route PUT \"/a\\\"b\" body size 4KiB
    route DELETE \"/x\"  route PATCH \"/x\"  route HEAD \"/x\"  route OPTIONS \"/x\"
    depends on payments
  }
}

traffic peak_test {
  forecast peak over 7d quantile 0.95
  rate peak(everyday) * peak_margin + 30000/m
  ramp 0/s -> 500/s over 1h30m
  mix { shop.catalog: 70%, shop.checkout: 30% }
  session buyer weight 30% {
    visit shop.catalog think 1s..3s repeat 2
  }
}

fault slow_payments {
  on stressed(shop, top 1, by latency)
  latency 200ms jitter 50ms
  errors 503 at 5%
  bandwidth 1MiB/s  slow_close 2s  slice 64B delay 1ms
  memory 512MiB
  match method GET and path \"/checkout\"
}
fault flaky = slow_dependency(on: shop.catalog, latency: 80ms)

window nightly { every day 02:00..04:00 UTC }
window eu { every weekday 08:30 .. 17:00 +01:00 }
event black_friday { at 2026-11-27T00:00Z lasts 1d expect 4x }

slo shop_ok {
  p99(shop.checkout) <= 400ms and not (error_rate(shop) >= 1%)
}
abort when error_rate(shop) > 25% for 15s

remedy scale_checkout {
  when predicted p99(shop.checkout) > 400ms at peak(everyday)
  do scale shop.checkout by +2
  step at most 4 per 1m
}

scenario nightly_peak {
  in nightly or before black_friday
  step chaos = inject slow_payments after warmup.start + 2m for 3m
}

template fault slow(on: service, latency: duration = 100ms) {
  on on
}
slo s2 { p99(shop.timeout) < 1s }
param bad = 250sec
")

(defmacro res-tests--with-sample (&rest body)
  "Run BODY in a fontified res-mode buffer holding `res-tests--sample'."
  (declare (indent 0))
  `(with-temp-buffer
     (insert res-tests--sample)
     (res-mode)
     (font-lock-ensure)
     (goto-char (point-min))
     ,@body))

(defun res-tests--faces-at (pos)
  "The faces at POS, as a list."
  (let ((face (get-text-property pos 'face)))
    (if (listp face) face (list face))))

(defun res-tests--next (text &optional word)
  "Move past the next TEXT (a whole symbol if WORD); return its start."
  (let ((re (if word (concat "\\_<" (regexp-quote text) "\\_>") (regexp-quote text))))
    (unless (re-search-forward re nil t)
      (error "Text %S not found after line %d" text (line-number-at-pos)))
    (match-beginning 0)))

(defun res-tests--check (expectations)
  "EXPECTATIONS is a list of (TEXT FACE [literal]); check each in buffer order.
TEXT is searched as a whole symbol unless the third element is non-nil.
FACE nil means: no face at all."
  (let (failures)
    (dolist (e expectations)
      (let* ((text (nth 0 e)) (face (nth 1 e)) (literal (nth 2 e))
             (pos (res-tests--next text (not literal)))
             (faces (res-tests--faces-at pos)))
        (unless (if face (memq face faces) (equal faces '(nil)))
          (push (format "line %d %S: expected %s, got %S"
                        (line-number-at-pos pos) text face (get-text-property pos 'face))
                failures))))
    (should (equal (nreverse failures) nil))))

(ert-deftest res-mode-auto-mode ()
  "Files ending in .res open in res-mode."
  (should (eq (assoc-default "scenario.res" auto-mode-alist #'string-match) 'res-mode))
  (let ((file (make-temp-file "res-test" nil ".res")))
    (unwind-protect
        (with-current-buffer (find-file-noselect file)
          (unwind-protect (should (eq major-mode 'res-mode))
            (kill-buffer)))
      (delete-file file))))

(ert-deftest res-mode-comment-syntax ()
  (with-temp-buffer
    (res-mode)
    (should (equal comment-start "// "))
    (insert "system shop")
    (comment-region (point-min) (point-max))
    (should (equal (buffer-string) "// system shop"))
    (erase-buffer)
    (insert "/* a\n b */ x // y\nz")
    (should (nth 4 (syntax-ppss 5)))      ; inside /* */
    (should-not (nth 4 (syntax-ppss 12))) ; x
    (should (nth 4 (syntax-ppss 17)))))   ; inside //

(ert-deftest res-mode-font-lock-comments-and-strings ()
  (res-tests--with-sample
    (res-tests--check
     '(("comments" font-lock-comment-face)
       ("system" font-lock-comment-face)
       ("250ms" font-lock-comment-face)
       ("spanning" font-lock-comment-face)
       ("fault" font-lock-comment-face)
       ("fault" res-declaration-face)
       ("\"std/faults\"" font-lock-string-face t)
       ("/items/" font-lock-string-face t)
       ("{items.id}" res-interpolation-face t)
       ("{not interpolated" font-lock-string-face t)
       ("\"item\"" font-lock-string-face t)
       ("{items.id}" res-interpolation-face t)
       ("\\\"" res-escape-face t)))))

(ert-deftest res-mode-font-lock-keywords ()
  (res-tests--with-sample
    (res-tests--check
     '(("import" res-declaration-face)
       ("as" res-statement-face)
       ("param" res-declaration-face)
       ("data" res-declaration-face)
       ("from" res-time-face)
       ("format" res-statement-face)
       ("order" res-statement-face)
       ("system" res-declaration-face)
       ("base" res-statement-face)
       ("header" res-statement-face)
       ("timeout" res-fault-face)
       ("service" res-declaration-face)
       ("route" res-statement-face)
       ("expect" res-statement-face)
       ("status" res-statement-face)
       ("body" res-statement-face)
       ("json" res-statement-face)
       ("size" res-statement-face)
       ("depends" res-statement-face)
       ("on" res-statement-face)
       ("traffic" res-declaration-face)
       ("forecast" res-statement-face)
       ("peak" res-statement-face)
       ("over" res-time-face)
       ("quantile" res-statement-face)
       ("rate" res-statement-face)
       ("ramp" res-statement-face)
       ("mix" res-statement-face)
       ("session" res-declaration-face)
       ("weight" res-statement-face)
       ("visit" res-statement-face)
       ("think" res-statement-face)
       ("repeat" res-statement-face)
       ("fault" res-declaration-face)
       ("on" res-statement-face)
       ("stressed" res-statement-face)
       ("top" res-statement-face)
       ("by" res-statement-face)
       ("latency" res-fault-face)
       ("latency" res-fault-face)
       ("jitter" res-statement-face)
       ("errors" res-fault-face)
       ("at" res-time-face)
       ("bandwidth" res-fault-face)
       ("slow_close" res-fault-face)
       ("slice" res-fault-face)
       ("delay" res-statement-face)
       ("memory" res-fault-face)
       ("match" res-statement-face)
       ("method" res-statement-face)
       ("and" res-logical-face)
       ("path" res-statement-face)
       ("window" res-declaration-face)
       ("every" res-time-face)
       ("event" res-declaration-face)
       ("lasts" res-time-face)
       ("slo" res-declaration-face)
       ("not" res-logical-face)
       ("abort" res-declaration-face)
       ("when" res-statement-face)
       ("for" res-time-face)
       ("remedy" res-declaration-face)
       ("predicted" res-statement-face)
       ("do" res-action-face)
       ("scale" res-action-face)
       ("scenario" res-declaration-face)
       ("in" res-time-face)
       ("or" res-logical-face)
       ("before" res-time-face)
       ("step" res-declaration-face)
       ("inject" res-action-face)
       ("after" res-time-face)
       ("start" res-time-face)
       ("template" res-declaration-face)
       ("fault" res-declaration-face)))))

(ert-deftest res-mode-font-lock-names ()
  (res-tests--with-sample
    (res-tests--check
     '(("peak_margin" res-declaration-name-face)
       ("items" res-declaration-name-face)
       ("shop" res-declaration-name-face)
       ("env" res-builtin-face)
       ("secret" res-builtin-face)
       ("catalog" res-declaration-name-face)
       ("GET" res-http-method-face)
       ("POST" res-http-method-face)
       ("true" res-constant-face)
       ("null" res-constant-face)
       ("PUT" res-http-method-face)
       ("DELETE" res-http-method-face)
       ("PATCH" res-http-method-face)
       ("HEAD" res-http-method-face)
       ("OPTIONS" res-http-method-face)
       ("peak_test" res-declaration-name-face)
       ("peak" res-statement-face)        ; forecast peak over 7d
       ("peak" res-builtin-face)          ; peak(everyday)
       ("buyer" res-declaration-name-face)
       ("slow_payments" res-declaration-name-face)
       ("slow_dependency" res-function-call-face)
       ("on" res-label-face)              ; slow_dependency(on: shop.catalog)
       ("nightly" res-declaration-name-face)
       ("black_friday" res-declaration-name-face)
       ("shop_ok" res-declaration-name-face)
       ("p99" res-builtin-face)
       ("error_rate" res-builtin-face)
       ("scale_checkout" res-declaration-name-face)
       ("at" res-time-face)               ; at peak(everyday)
       ("at" res-time-face)               ; step at most 4 per 1m: not a step's name
       ("nightly_peak" res-declaration-name-face)
       ("chaos" res-declaration-name-face)
       ("slow" res-declaration-name-face)
       ;; a keyword said twice: the second is a parameter spelled like it
       ("on" res-label-face)              ; slow(on: service, ...)
       ("latency" res-label-face)
       ("on" res-statement-face)
       ("on" res-parameter-face)
       ;; a member is no keyword: shop.timeout names a service
       ("timeout" res-member-face)))))

(ert-deftest res-mode-font-lock-literals ()
  (res-tests--with-sample
    (res-tests--check
     '(("1.3x" res-quantity-face)
       ("5s" res-quantity-face)
       ("2xx" res-quantity-face)
       ("404" res-number-face)
       ("1" res-number-face)
       ("4KiB" res-quantity-face)
       ("7d" res-quantity-face)
       ("0.95" res-number-face)
       ("30000/m" res-quantity-face)
       ("0/s" res-quantity-face)
       ("500/s" res-quantity-face)
       ("1h30m" res-quantity-face)
       ("70%" res-quantity-face t)
       ("1s" res-quantity-face)
       ("3s" res-quantity-face)
       ("200ms" res-quantity-face)
       ("503" res-number-face)
       ("5%" res-quantity-face t)
       ("1MiB/s" res-quantity-face t)
       ("64B" res-quantity-face)
       ("512MiB" res-quantity-face)
       ("80ms" res-quantity-face)
       ("02:00" res-timestamp-face t)
       ("04:00" res-timestamp-face t)
       ("UTC" res-timestamp-face)
       ("08:30" res-timestamp-face t)
       ("17:00" res-timestamp-face t)
       ("+01:00" res-timestamp-face t)
       ("2026-11-27T00:00Z" res-timestamp-face t)
       ("1d" res-quantity-face)
       ("4x" res-quantity-face)
       ("100ms" res-quantity-face)
       ("250sec" res-invalid-face)))))

(ert-deftest res-mode-font-lock-operators ()
  (res-tests--with-sample
    (res-tests--check
     `(("=" res-operator-face t)
       ("*" res-operator-face t)
       ("->" res-operator-face t)
       (".." res-operator-face t)
       ("<=" res-operator-face t)
       (">=" res-operator-face t)
       (">" res-operator-face t)
       ("+" res-operator-face t)))))

(ert-deftest res-mode-every-keyword-is-highlighted ()
  "Each grammar keyword (from the generated lists) gets a keyword face in code."
  (let ((groups `((,res-declaration-keywords . res-declaration-face)
                  (,res-statement-keywords . res-statement-face)
                  (,res-fault-keywords . res-fault-face)
                  (,res-action-keywords . res-action-face)
                  (,res-time-keywords . res-time-face)
                  (,res-logical-keywords . res-logical-face)))
        failures)
    (dolist (group groups)
      (dolist (word (car group))
        (with-temp-buffer
          (insert "x " word " y\n")
          (res-mode)
          (font-lock-ensure)
          (unless (memq (cdr group) (res-tests--faces-at 3))
            (push (format "%s: %S" word (get-text-property 3 'face)) failures)))))
    (should (equal failures nil))))

(defconst res-tests--indented
  "import \"std/faults\" {
  slow_dependency,
  latency_spike as spike,
}

system shop {
  builtin demo_shop
  service checkout {
    route POST \"/checkout\" body json {
      \"item\": \"{items.id}\",
      \"tags\": [
        \"a\",
        \"b\"
      ],
      \"qty\": 1
    }
    depends on payments   // a { in a comment does not indent
    route GET \"/x{\" expect status 2xx
  }
}

/* a block comment
 * with stars
 */
fault flaky = slow_dependency(
  on: shop.catalog,
  latency: 80ms)
fault slow { on shop.payments  latency 200ms }

scenario s {
  step a = wait 1s
  /* inside a block */
  step b = inject flaky after a for 3m
}
"
  "A res file indented as res-mode should indent it.")

(ert-deftest res-mode-indentation ()
  (with-temp-buffer
    (insert (replace-regexp-in-string "^[ \t]+" "" res-tests--indented))
    (res-mode)
    (indent-region (point-min) (point-max))
    (should (equal (buffer-string) res-tests--indented))))

(ert-deftest res-mode-indent-line-keeps-point-in-text ()
  (with-temp-buffer
    (insert "system shop {\nbuiltin demo_shop\n}\n")
    (res-mode)
    (goto-char (point-min))
    (forward-line 1)
    (forward-char 3)                    ; after "bui"
    (indent-according-to-mode)
    (should (equal (buffer-substring (line-beginning-position) (line-end-position))
                   "  builtin demo_shop"))
    (should (looking-at-p "ltin"))))

(ert-deftest res-mode-electric-closing-brace ()
  (with-temp-buffer
    (res-mode)
    (electric-indent-local-mode 1)
    (insert "system shop {\n  builtin demo_shop\n  ")
    (let ((last-command-event ?\}))
      (self-insert-command 1))
    (should (equal (buffer-string) "system shop {\n  builtin demo_shop\n}"))))

;; The repository's own scenarios and stdlib: each fontifies without error, and every line
;; that starts with a letter at column 0 starts with a declaration keyword.
(defconst res-tests--repo
  (file-name-directory
   (directory-file-name
    (file-name-directory
     (directory-file-name
      (file-name-directory (or load-file-name buffer-file-name default-directory)))))))

(ert-deftest res-mode-repository-files ()
  (let ((files (seq-filter #'file-regular-p
                          (append (file-expand-wildcards (expand-file-name "scenarios/*.res" res-tests--repo))
                                  (file-expand-wildcards (expand-file-name "stdlib/*.res" res-tests--repo)))))
        failures)
    (dolist (file files)
      (with-temp-buffer
        (insert-file-contents file)
        (res-mode)
        (font-lock-ensure)
        (goto-char (point-min))
        (while (re-search-forward "^[A-Za-z]" nil t)
          (let ((faces (res-tests--faces-at (match-beginning 0))))
            (unless (memq 'res-declaration-face faces)
              (push (format "%s:%d starts with %S" (file-name-nondirectory file)
                            (line-number-at-pos) (get-text-property (match-beginning 0) 'face))
                    failures))))))
    (should (equal (nreverse failures) nil))))

(provide 'res-mode-tests)

;;; res-mode-tests.el ends here
