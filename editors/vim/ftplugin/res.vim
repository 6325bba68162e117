" Vim filetype plugin
" Language:    res (resilience scenarios, *.res)

if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1

let s:cpo_save = &cpo
set cpo&vim

setlocal commentstring=//\ %s
setlocal comments=s1:/*,mb:*,ex:*/,://
" wrap comments, not code; continue comments on <Enter> and o/O
setlocal formatoptions-=t formatoptions+=croql
setlocal suffixesadd=.res

let b:undo_ftplugin = 'setlocal commentstring< comments< formatoptions< suffixesadd<'

" The style of the res repository (two spaces, as `res fmt` writes). Opt out with
" let g:res_recommended_style = 0
if get(g:, 'res_recommended_style', 1)
  setlocal expandtab shiftwidth=2 softtabstop=2 tabstop=8
  let b:undo_ftplugin .= ' | setlocal expandtab< shiftwidth< softtabstop< tabstop<'
endif

let &cpo = s:cpo_save
unlet s:cpo_save
