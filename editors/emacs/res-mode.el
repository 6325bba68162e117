;;; res-mode.el --- Major mode for res resilience scenarios -*- lexical-binding: t -*-

;; Copyright the res project authors.
;; SPDX-License-Identifier: Apache-2.0

;; Version: 0.1.0
;; Keywords: languages
;; Package-Requires: ((emacs "26.1"))

;;; Commentary:

;; Font-lock, indentation and comment support for `.res' files, the scenario language of the
;; `res' command line tool.  The syntax is defined by grammar/res.pest in the res repository; the
;; keyword lists between the GENERATED KEYWORDS markers below are written from it by
;; editors/gen-keywords.py.
;;
;; Install:
;;   (add-to-list 'load-path "/path/to/res/editors/emacs")
;;   (require 'res-mode)
;;
;; `.res' is also the extension of ReScript; loading this file puts res-mode first in
;; `auto-mode-alist'.

;;; Code:

(require 'rx)

(defgroup res nil
  "Editing res resilience scenarios."
  :group 'languages
  :prefix "res-")

(defcustom res-indent-offset 2
  "Number of columns per level of braces, parentheses and brackets in res files."
  :type 'integer
  :safe #'integerp)

;;;; Faces.  Each inherits a standard font-lock face, so themes colour them sensibly.

(defface res-declaration-face '((t :inherit font-lock-keyword-face))
  "Face for declaration keywords: system, service, fault, scenario, ...")
(defface res-statement-face '((t :inherit font-lock-keyword-face))
  "Face for statement keywords: route, depends, forecast, ...")
(defface res-fault-face '((t :inherit font-lock-builtin-face))
  "Face for fault kinds: latency, errors, reset, kill, ...")
(defface res-action-face '((t :inherit font-lock-keyword-face))
  "Face for actions: do, scale, load, inject, wait, ...")
(defface res-time-face '((t :inherit font-lock-keyword-face))
  "Face for time relations: at, after, during, for, from, to, ...")
(defface res-logical-face '((t :inherit font-lock-keyword-face))
  "Face for the word operators and, or, not.")
(defface res-declaration-name-face '((t :inherit font-lock-function-name-face))
  "Face for the name a declaration introduces: system shop, step warmup, ...")
(defface res-parameter-face '((t :inherit font-lock-variable-name-face))
  "Face for a template parameter spelled like a keyword, in `on on' or `latency latency'.")
(defface res-label-face '((t :inherit font-lock-variable-name-face))
  "Face for argument labels and template parameters: the `on' of (on: shop.catalog).")
(defface res-member-face '((t))
  "Face for the member after a dot: the `checkout' of shop.checkout (plain by default).")
(defface res-builtin-face '((t :inherit font-lock-builtin-face))
  "Face for built-in functions: p99, error_rate, peak, env, secret, ...")
(defface res-function-call-face '((t :inherit font-lock-function-name-face))
  "Face for calls of templates and other functions.")
(defface res-quantity-face '((t :inherit font-lock-constant-face))
  "Face for literals with a unit: 250ms, 500/s, 64KiB, 1MiB/s, 5%, 1.3x, 2xx.")
(defface res-number-face '((t :inherit font-lock-constant-face))
  "Face for plain numbers.")
(defface res-timestamp-face '((t :inherit font-lock-constant-face))
  "Face for timestamps (2026-11-27T00:00Z), times of day (02:00) and time zones.")
(defface res-constant-face '((t :inherit font-lock-constant-face))
  "Face for true, false and null.")
(defface res-http-method-face '((t :inherit font-lock-type-face))
  "Face for HTTP methods: GET, POST, ...")
(defface res-interpolation-face '((t :inherit font-lock-variable-name-face))
  "Face for {feeder.column} inside strings.")
(defface res-escape-face '((t :inherit font-lock-regexp-grouping-backslash))
  "Face for escapes inside strings.")
(defface res-operator-face
  `((t ,@(and (facep 'font-lock-operator-face) '(:inherit font-lock-operator-face))))
  "Face for operators: == != <= >= < > + - * / = -> ..")
(defface res-invalid-face '((t :inherit font-lock-warning-face))
  "Face for a number glued to letters that are no unit (250sec).")

;;;; Keyword lists

;; GENERATED KEYWORDS BEGIN (editors/gen-keywords.py from grammar/res.pest; do not edit by hand)
(defconst res-declaration-keywords
  '("abort" "data" "event" "fault" "import" "param" "remedy" "scenario" "service" "session" "slo"
    "step" "system" "template" "traffic" "window")
  "Keywords of the declaration group.")
(defconst res-statement-keywords
  '("admin" "against" "approval" "arrival" "as" "backend" "balance" "base" "body" "builtin" "by"
    "capacity" "chunk" "command" "cooldown" "cores" "delay" "depends" "expect" "forecast"
    "format" "haproxy" "header" "hold" "jitter" "json" "learn" "like" "match" "method" "metrics"
    "mix" "mode" "most" "name" "on" "order" "path" "peak" "per" "pidfile" "predict" "predicted"
    "process" "profile" "prometheus" "protocol" "proxy" "quantile" "query" "ramp" "rate" "read"
    "record" "remediate" "repeat" "require" "route" "runs" "signal" "size" "skip" "status"
    "stressed" "then" "think" "top" "toxiproxy" "upstream" "users" "verify" "via" "visit"
    "weight" "when" "within")
  "Keywords of the statement group.")
(defconst res-fault-keywords
  '("bandwidth" "blackhole" "cpu" "disk" "errors" "fds" "kill" "latency" "loss" "memory" "pause"
    "reset" "restart" "slice" "slow_close" "timeout" "toxicity")
  "Keywords of the fault group.")
(defconst res-action-keywords
  '("do" "exec" "failover" "inject" "load" "scale" "shift" "wait" "webhook")
  "Keywords of the action group.")
(defconst res-time-keywords
  '("after" "at" "before" "during" "end" "every" "for" "from" "in" "lasts" "over" "start" "to"
    "with")
  "Keywords of the time group.")
(defconst res-logical-keywords
  '("and" "not" "or")
  "Keywords of the logical group.")
(defconst res-named-declarations
  '("data" "event" "fault" "param" "remedy" "scenario" "service" "session" "slo" "step" "system"
    "traffic" "window")
  "Keywords followed by the name they declare.")
(defconst res-builtin-functions
  '("availability" "env" "error_rate" "max_latency" "p50" "p90" "p95" "p99" "p999" "peak"
    "recovery" "saturation" "secret" "throughput")
  "Built-in functions of res.")
;; GENERATED KEYWORDS END

;;;; Font lock

(defconst res--ident "[A-Za-z_][A-Za-z0-9_]*")
(defconst res--decimal "[0-9]+\\(?:\\.[0-9]+\\)?")
(defconst res--size-unit "\\(?:[KMGT]iB\\|kB\\|[KMGT]B\\|B\\)")
(defconst res--time "[0-9][0-9]:[0-9][0-9]\\(?::[0-9][0-9]\\)?")

(defun res--symbols (words)
  "A regexp matching any of WORDS as a whole symbol."
  (concat "\\_<" (regexp-opt words t) "\\_>"))

(defun res--in-string-p (pos)
  "Non-nil when POS is inside a string."
  (save-excursion (nth 3 (syntax-ppss pos))))

(defun res--match-in-string (regexp)
  "A font-lock matcher finding REGEXP only inside strings."
  (lambda (limit)
    (let (found)
      (while (and (not found) (re-search-forward regexp limit t))
        (when (res--in-string-p (match-beginning 0))
          (setq found t)))
      found)))

(defun res--literal (regexp)
  "Wrap REGEXP so that it matches a whole literal, not part of a symbol."
  (concat "\\_<" regexp "\\(?:\\_>\\|$\\)"))

(defun res--font-lock-keywords ()
  "Compute the font-lock keywords of `res-mode'."
  (let ((quantity
         (mapconcat
          #'identity
          (list (concat res--decimal res--size-unit "/s")           ; bandwidth
                (concat res--decimal "/[smhd]")                     ; rate
                (concat res--decimal res--size-unit)                ; size
                (concat "\\(?:" res--decimal "\\(?:ms\\|us\\|[smhdw]\\)\\)+") ; duration
                (concat res--decimal "x")                           ; multiplier
                "[1-5]xx")                                          ; status class
          "\\|")))
    `(;; inside strings (override the string face)
      (,(res--match-in-string "\\\\.") 0 'res-escape-face t)
      (,(res--match-in-string
         (concat "{[ \t]*" res--ident "\\(?:\\." res--ident "\\)*[ \t]*}"))
       0 'res-interpolation-face t)
      ;; literals
      (,(concat "\\_<[0-9]\\{4\\}-[0-9][0-9]-[0-9][0-9]"
                "\\(?:T[0-9][0-9]:[0-9][0-9]\\(?::[0-9][0-9]\\)?"
                "\\(?:Z\\|[-+][0-9][0-9]:[0-9][0-9]\\)\\)?\\_>")
       0 'res-timestamp-face)
      (,(concat res--time "\\s-+\\(UTC\\|[-+][0-9][0-9]:[0-9][0-9]\\)\\_>")
       1 'res-timestamp-face)
      (,(res--literal res--time) 0 'res-timestamp-face)
      ("\\_<UTC\\_>" 0 'res-timestamp-face)
      (,(concat "\\_<" res--decimal "%") 0 'res-quantity-face)
      (,(res--literal (concat "\\(?:" quantity "\\)")) 0 'res-quantity-face)
      (,(res--literal (concat res--decimal "\\(?:[eE][-+]?[0-9]+\\)?")) 0 'res-number-face)
      (,(concat "\\_<" res--decimal "[A-Za-z_][A-Za-z0-9_]*") 0 'res-invalid-face)
      (,(res--symbols '("true" "false" "null")) 0 'res-constant-face)
      (,(res--symbols '("GET" "POST" "PUT" "DELETE" "PATCH" "HEAD" "OPTIONS"))
       0 'res-http-method-face)
      ;; names: the member after a dot is no keyword (shop.timeout), except start and end
      (,(concat "\\.\\(" res--ident "\\)") 1
       (unless (member (match-string 1) '("start" "end")) 'res-member-face))
      (,(concat (res--symbols res-named-declarations) "[ \t]+\\(" res--ident "\\)\\_>")
       (1 'res-declaration-face)
       ;; not `at' of a remedy's `step at most 4 per 1m'
       (2 (unless (and (equal (match-string 2) "at")
                       (save-excursion (goto-char (match-end 2)) (looking-at "[ \t]+most\\_>")))
            'res-declaration-name-face)))
      (,(concat (res--symbols res-builtin-functions) "[ \t]*(") 1 'res-builtin-face)
      ;; argument labels and template parameters: slow(on: service), f(on: shop.catalog)
      (,(concat "\\_<\\(" res--ident "\\)[ \t]*:") 1 'res-label-face)
      ;; a keyword said twice: the second is a template parameter spelled like it (`on on');
      ;; keywords are contextual and no statement repeats its word
      (,(concat "\\_<\\(" (regexp-opt (append res-declaration-keywords res-statement-keywords
                                               res-fault-keywords res-action-keywords
                                               res-time-keywords res-logical-keywords))
                "\\)[ \t]+\\(\\1\\)\\_>")
       2 'res-parameter-face)
      ;; keywords
      (,(res--symbols res-declaration-keywords) 0 'res-declaration-face)
      (,(res--symbols res-statement-keywords) 0 'res-statement-face)
      (,(res--symbols res-fault-keywords) 0 'res-fault-face)
      (,(res--symbols res-action-keywords) 0 'res-action-face)
      (,(res--symbols res-time-keywords) 0 'res-time-face)
      (,(res--symbols res-logical-keywords) 0 'res-logical-face)
      ;; calls of templates and functions
      (,(concat "\\_<\\(" res--ident "\\)[ \t]*(") 1 'res-function-call-face)
      ;; operators
      ("==\\|!=\\|<=\\|>=\\|->\\|\\.\\.\\|[-+*/<>=]" 0 'res-operator-face))))

;;;; Syntax table

(defvar res-mode-syntax-table
  (let ((table (make-syntax-table)))
    ;; comments: // to end of line, /* ... */
    (modify-syntax-entry ?/ ". 124b" table)
    (modify-syntax-entry ?* ". 23" table)
    (modify-syntax-entry ?\n "> b" table)
    (modify-syntax-entry ?\r "> b" table)
    ;; strings
    (modify-syntax-entry ?\" "\"" table)
    (modify-syntax-entry ?\\ "\\" table)
    ;; identifiers may hold underscores
    (modify-syntax-entry ?_ "_" table)
    ;; punctuation
    (dolist (c '(?+ ?- ?= ?< ?> ?! ?% ?. ?, ?: ?&))
      (modify-syntax-entry c "." table))
    table)
  "Syntax table for `res-mode'.")

;;;; Indentation

(defun res--line-starts-with-closer-p ()
  "Return non-nil if a closing brace, paren or bracket begins the current line."
  (save-excursion
    (back-to-indentation)
    (looking-at-p "[]})]")))

(defun res-calculate-indentation ()
  "The column the current line should be indented to.
Each enclosing brace, parenthesis or bracket adds `res-indent-offset'; a
line that starts with a closer lines up with the line that opened it."
  (save-excursion
    (back-to-indentation)
    (let ((ppss (syntax-ppss (line-beginning-position))))
      (cond
       ;; inside a block comment: a " * ..." line goes under the star of the opener; other
       ;; comment text keeps its indentation
       ((nth 4 ppss)
        (if (looking-at-p "\\*")
            (save-excursion
              (goto-char (nth 8 ppss))
              (1+ (current-column)))
          (current-indentation)))
       ;; inside a string spanning lines (not valid res): leave it alone
       ((nth 3 ppss) (current-indentation))
       (t
        (let ((open (nth 1 ppss)))
          (if (not open)
              0
            ;; indent relative to the line holding the innermost opener
            (let ((base (save-excursion (goto-char open) (current-indentation))))
              (if (res--line-starts-with-closer-p)
                  base
                (+ base res-indent-offset))))))))))

(defun res-indent-line ()
  "Indent the current line as res code."
  (interactive)
  (let ((column (res-calculate-indentation))
        (offset (- (current-column) (current-indentation))))
    (indent-line-to (max column 0))
    (when (> offset 0)
      (forward-char offset))))

;;;; Imenu

(defun res--imenu-expression ()
  "Imenu entries: one per named declaration."
  (mapcar (lambda (kw)
            (list (capitalize kw)
                  (concat "^[ \t]*" (regexp-quote kw) "[ \t]+\\(" res--ident "\\)")
                  1))
          (append res-named-declarations '("template fault" "template traffic"
                                            "template slo" "template remedy"))))

;;;; Mode

;;;###autoload
(define-derived-mode res-mode prog-mode "res"
  "Major mode for res resilience scenarios (.res files).

\\{res-mode-map}"
  :syntax-table res-mode-syntax-table
  (setq-local comment-start "// ")
  (setq-local comment-end "")
  (setq-local comment-start-skip "\\(?://+\\|/\\*+\\)\\s-*")
  (setq-local comment-multi-line t)
  (setq-local font-lock-defaults (list (res--font-lock-keywords) nil nil))
  (setq-local indent-line-function #'res-indent-line)
  (setq-local indent-tabs-mode nil)
  (setq-local electric-indent-chars (append "{}()[]" electric-indent-chars))
  (setq-local imenu-generic-expression (res--imenu-expression)))

;;;###autoload
(add-to-list 'auto-mode-alist '("\\.res\\'" . res-mode))

(provide 'res-mode)

;;; res-mode.el ends here
