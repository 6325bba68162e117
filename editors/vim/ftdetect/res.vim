" res resilience scenarios. `set filetype`, not `setfiletype`: Vim's own filetype.vim already
" claims *.res for ReScript with setf, and this autocommand, defined after it, must win.
autocmd BufRead,BufNewFile *.res set filetype=res
